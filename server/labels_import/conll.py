"""CoNLL / IOB2 labels of NER projects: a token per line (token first, tag last), a blank
line between sentences.

A `-DOCSTART-` line whose third field names an item (annolog's exports) gives the item of the
sentences that follow, up to the next DOCSTART; a name with `#` (a draft or a prelabel) makes
its sentences skipped. Sentences with no such line are matched to the item whose text
tokenizes (`server.export.tokens`) to the very same tokens. Tags are `O`, `B-<tag>` and
`I-<tag>` (IOB2; an I- that follows O or another type starts a span, as IOB1 has it);
a span runs from its first token's start to its last token's end, in code points.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

from events.annotation import AnnotationEvent
from events.project import ImportedItem
from server.export.conll import tag_field
from server.export.tokens import tokenize
from server.labels_import.context import Context
from server.labels_import.records import Fault, Parsed, Problem, Record, Skipped


@dataclass
class Block:
    line: int
    name: str | None
    rows: list[tuple[int, str, str]] = field(default_factory=list)


def blocks(text: str) -> Iterator[Block | Problem]:
    name: str | None = None
    current: Block | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        fields = raw.split()
        if fields and fields[0] == "-DOCSTART-":
            if current is not None:
                yield current
                current = None
            name = fields[2] if len(fields) >= 4 and fields[2] != "-X-" else None
            continue
        if not fields:
            if current is not None and name is None:
                yield current
                current = None
            continue
        if len(fields) < 2:
            yield Problem(f"line {number}", f"a token line needs a token and a tag: {raw!r}")
            continue
        if current is None:
            current = Block(number, name)
        current.rows.append((number, fields[0], fields[-1]))
    if current is not None:
        yield current


def parse(data: bytes, context: Context) -> Iterator[Parsed]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield Problem("file", f"not UTF-8 text: {exc}")
        return
    tags = {tag_field(tag.name): tag.name for tag in context.tags}
    by_tokens: dict[tuple[str, ...], str] | None = None
    for block in blocks(text):
        if isinstance(block, Problem):
            yield block
            continue
        where = f"line {block.line}"
        if block.name is not None and "#" in block.name:
            yield Skipped(where, f"{block.name} is not a submitted label")
            continue
        tokens = tuple(token for _, token, _ in block.rows)
        try:
            if block.name is not None:
                item = context.find(item_id=block.name, name=block.name)
            else:
                if by_tokens is None:
                    by_tokens = {}
                    for item_id, candidate in context.items.items():
                        if candidate.kind == "text":
                            key = tuple(t for t, _, _ in tokenize(candidate.text or ""))
                            by_tokens.setdefault(key, item_id)
                found = by_tokens.get(tokens)
                if found is None:
                    raise Fault("no item's text has these tokens")
                item = context.items[found]
            yield Record(where, item.item_id, _spans(block, item, tags, context))
        except Fault as exc:
            yield Problem(where, exc.message)


def _spans(
    block: Block, item: ImportedItem, tags: dict[str, str], context: Context
) -> list[AnnotationEvent]:
    offsets = tokenize(item.text or "")
    if len(offsets) != len(block.rows):
        raise Fault(f"{len(block.rows)} tokens, but the item's text has {len(offsets)}")
    builder = context.builder(item)
    open_span: tuple[str, int, int] | None = None
    for (number, token, label), (expected, start, end) in zip(block.rows, offsets, strict=True):
        if token != expected:
            raise Fault(f"line {number}: token {token!r}, but the item's text has {expected!r}")
        if label == "O":
            kind, tag = "O", None
        elif len(label) > 2 and label[1] == "-" and label[0] in "BI":
            kind, tag = label[0], tags.get(label[2:])
            if tag is None:
                raise Fault(f"line {number}: {label[2:]!r} is not a tag of the project")
        else:
            raise Fault(f"line {number}: {label!r} is not O, B-<tag> or I-<tag>")
        if open_span is not None and (kind != "I" or tag != open_span[0]):
            builder.span(*open_span)
            open_span = None
        if tag is not None:
            first = start if open_span is None else open_span[1]
            open_span = (tag, first, end)
    if open_span is not None:
        builder.span(*open_span)
    return builder.gestures
