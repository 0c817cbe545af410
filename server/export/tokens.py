"""The tokenizer of CoNLL exports and imports, with offsets in code points.

A token is a run of word characters (letters, digits, `_`, as Python's `\\w` has them) and
combining marks, or any other single character that is not white space. White space (what
`str.isspace` says) separates tokens and is never part of one. So `Dr. Zoë's "café"` gives
`Dr` `.` `Zoë` `'` `s` `"` `café` `"`. Offsets are indices into the text as a Python string,
that is code points, the same unit as a span's start and end.
"""

import re

_TOKEN = re.compile(
    r"[\w\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+|[^\w\s]"
)

Token = tuple[str, int, int]


def tokenize(text: str) -> list[Token]:
    """(token, start, end) of each token, in order."""
    return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]
