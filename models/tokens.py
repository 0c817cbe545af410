"""Tokens with character offsets, and spans ↔ per-token BIO labels.

Offsets are Unicode code point offsets into the text (Python string indices), the same unit
as the `start`/`end` of a span in the event log; `end` is exclusive.

Per-token labels are strings: `"O"` outside, `"B-<tag>"` begins a span, `"I-<tag>"` continues
one. A bare `"<tag>"` (the per-token scheme, no prefix) continues a span of the same tag or
begins one, so both schemes decode with the same function.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.types import FloatArray

OUTSIDE = "O"

_TOKEN = re.compile(r"\d+(?:[.,]\d+)+|\w+(?:['’\-]\w+)*|[^\w\s]")


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    tag: str
    score: float = 1.0


def tokenize(text: str) -> list[Token]:
    """Numbers (`3.5`, `1,000`), words (with inner apostrophes and hyphens), single symbols."""
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def bio_labels(tokens: Sequence[Token], spans: Sequence[Span]) -> list[str]:
    """Per-token BIO labels for spans; a token belongs to a span it overlaps.

    Spans are taken in order of `start`; a token already claimed by an earlier span keeps it.
    """
    labels = [OUTSIDE] * len(tokens)
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        first = True
        for i, token in enumerate(tokens):
            if token.end <= span.start or token.start >= span.end or labels[i] != OUTSIDE:
                continue
            labels[i] = f"{'B' if first else 'I'}-{span.tag}"
            first = False
    return labels


def label_classes(tags: Sequence[str]) -> list[str]:
    """The BIO classes of a tag set, in a fixed order: `O`, then `B-t`, `I-t` per tag."""
    classes = [OUTSIDE]
    for tag in tags:
        classes.extend((f"B-{tag}", f"I-{tag}"))
    return classes


def decode_spans(
    tokens: Sequence[Token], labels: Sequence[str], scores: Sequence[float] | None = None
) -> list[Span]:
    """Per-token labels → spans from the first token's start to the last token's end.

    A span's score is the lowest score among its tokens (scores default to 1).
    """
    spans: list[Span] = []
    tag: str | None = None
    start = end = 0
    score = 1.0
    for i, (token, label) in enumerate(zip(tokens, labels, strict=True)):
        s = 1.0 if scores is None else float(scores[i])
        prefix, _, rest = label.partition("-")
        if label == OUTSIDE:
            kind, this = "O", None
        elif prefix in ("B", "I") and rest:
            kind, this = prefix, rest
        else:
            kind, this = "I", label
        if tag is not None and (kind != "I" or this != tag):
            spans.append(Span(start, end, tag, score))
            tag = None
        if this is None:
            continue
        if tag is None:
            tag, start, score = this, token.start, s
        score = min(score, s)
        end = token.end
    if tag is not None:
        spans.append(Span(start, end, tag, score))
    return spans


def decode_probabilities(
    tokens: Sequence[Token], probabilities: FloatArray, classes: Sequence[str]
) -> list[Span]:
    """A (T, C) per-token probability matrix → spans scored by their least sure token."""
    if probabilities.shape != (len(tokens), len(classes)):
        raise ValueError(
            f"probabilities have shape {probabilities.shape}, "
            f"expected ({len(tokens)}, {len(classes)})"
        )
    best = probabilities.argmax(axis=1)
    labels = [classes[int(i)] for i in best]
    return decode_spans(tokens, labels, probabilities.max(axis=1).tolist())


def sequence_confidence(probabilities: FloatArray) -> float:
    """How sure the model is of a whole text's labels: its least sure token (1 when empty)."""
    if probabilities.shape[0] == 0:
        return 1.0
    return float(np.min(probabilities.max(axis=1)))
