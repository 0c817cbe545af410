"""CoNLL-2003 style IOB2 for NER projects: a token per line, a blank line between items.

    -DOCSTART- -X- <item_id> O
    <blank>
    Zoë B-PER
    met O
    ...
    <blank>

Each item is a document: a `-DOCSTART-` line naming the item (the line every CoNLL reader
skips), a blank line, then `token TAG` lines and a blank line. Tokens come from
`server.export.tokens.tokenize`. A token takes the tag of the span it overlaps (B- on the
span's first token, I- on the rest); a span that starts or ends inside a token takes the
whole token, and where spans overlap the one that starts first keeps the tokens it covers,
since IOB2 cannot nest. With overlap=all each label is a document of its own; drafts and
prelabels are documents whose DOCSTART names `<item_id>#draft:<labeler>` or
`<item_id>#prelabel`, which the importer skips.
"""

from events.projections.drafts import Draft
from server.export.base import Writer
from server.export.model import ExportItem, ExportProject
from server.export.sink import Sink
from server.export.tokens import Token, tokenize


def iob2(tokens: list[Token], draft: Draft) -> list[str]:
    """The IOB2 tag of each token under the draft's spans."""
    tags = ["O"] * len(tokens)
    spans = sorted(draft.spans.values(), key=lambda s: (s.start, -s.end))
    for span in spans:
        covered = [
            i for i, (_, start, end) in enumerate(tokens) if start < span.end and end > span.start
        ]
        if not covered or any(tags[i] != "O" for i in covered):
            continue
        tags[covered[0]] = f"B-{span.tag}"
        for i in covered[1:]:
            tags[i] = f"I-{span.tag}"
    return tags


def tag_field(tag: str) -> str:
    # A tag name may hold spaces; a CoNLL column cannot.
    return "_".join(tag.split())


class ConllWriter(Writer):
    def open(self, project: ExportProject, out: Sink) -> None:
        pass

    def add(self, item: ExportItem, out: Sink) -> None:
        if not item.labels:
            return
        tokens = tokenize(item.item.text or "")
        for label in item.labels:
            name = item.item.item_id
            if label.status == "draft":
                name += f"#draft:{label.labelers[0]}"
            elif label.status == "prelabel":
                name += "#prelabel"
            lines = [f"-DOCSTART- -X- {name} O", ""]
            tags = iob2(tokens, label.draft)
            lines += [
                f"{token} {tag_field(tag)}" for (token, _, _), tag in zip(tokens, tags, strict=True)
            ]
            out.write(("\n".join(lines) + "\n\n").encode("utf-8"))
