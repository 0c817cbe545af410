"""CSV cells that spreadsheet programs would run as formulas: neutralized on export, restored
on import (CSV or formula injection, OWASP).

Excel, LibreOffice and Google Sheets read a cell that starts with `=`, `+`, `-`, `@`, a tab or
a carriage return as a formula, so a tag or file name such as `=HYPERLINK(...)` typed by a
labeler would run on the machine of whoever opens the export. Such a cell gets a leading
single quote, which those programs show as text. A plain decimal number (`-3.5`, `+2`,
`-1e-3`) is left alone: a spreadsheet reads it as the number it is, and no formula.

The quote must come off again on import, and a name that itself starts with quotes before a
risky character must survive the trip: a cell is quoted when, past its leading quotes, it
starts with a risky character, so every quoted cell carries one quote more than its value.
"""

import re

RISKY = frozenset("=+-@\t\r")
QUOTE = "'"
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _risky(cell: str) -> bool:
    bare = cell.lstrip(QUOTE)
    return bare[:1] in RISKY and NUMBER.fullmatch(bare) is None


def neutralize(cell: str) -> str:
    """The cell as written to a CSV export: quoted if a spreadsheet would run it."""
    return QUOTE + cell if _risky(cell) else cell


def restore(cell: str) -> str:
    """The value of a cell that `neutralize` wrote (a cell it would not have quoted is kept)."""
    if cell.startswith(QUOTE) and _risky(cell):
        return cell[1:]
    return cell
