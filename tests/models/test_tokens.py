"""Spans ↔ per-token BIO labels, in code point offsets."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from models.tokens import (
    Span,
    bio_labels,
    decode_probabilities,
    decode_spans,
    label_classes,
    sequence_confidence,
    tokenize,
)

TEXT = "Ada Lovelace met Charles Babbage in London ."


def test_spans_round_trip_through_bio_labels() -> None:
    tokens = tokenize(TEXT)
    spans = [Span(0, 12, "PER"), Span(17, 32, "PER"), Span(36, 42, "LOC")]
    labels = bio_labels(tokens, spans)
    assert labels == ["B-PER", "I-PER", "O", "B-PER", "I-PER", "O", "B-LOC", "O"]
    assert decode_spans(tokens, labels) == spans


def test_adjacent_spans_of_one_tag_stay_apart_with_bio_and_merge_per_token() -> None:
    tokens = tokenize("Ada Grace")
    assert decode_spans(tokens, ["B-PER", "B-PER"]) == [Span(0, 3, "PER"), Span(4, 9, "PER")]
    assert decode_spans(tokens, ["PER", "PER"]) == [Span(0, 9, "PER")]
    assert decode_spans(tokens, ["I-PER", "I-LOC"]) == [Span(0, 3, "PER"), Span(4, 9, "LOC")]


def test_a_span_scores_its_least_sure_token() -> None:
    tokens = tokenize("Ada Lovelace wrote")
    classes = label_classes(["PER"])
    probs = np.array([[0.1, 0.9, 0.0], [0.3, 0.0, 0.7], [0.8, 0.1, 0.1]], np.float32)
    (span,) = decode_probabilities(tokens, probs, classes)
    assert (span.start, span.end, span.tag) == (0, 12, "PER")
    assert span.score == np.float32(0.7)
    assert sequence_confidence(probs) == np.float32(0.7)


words = st.text(alphabet="abcXYZé🙂", min_size=1, max_size=6)


@given(st.lists(st.tuples(words, st.sampled_from(["O", "PER", "LOC"])), max_size=12))
def test_token_level_round_trip(tagged: list[tuple[str, str]]) -> None:
    text = " ".join(w for w, _ in tagged)
    tokens = tokenize(text)
    if len(tokens) != len(tagged):  # 🙂 splits from letters; only test clean cases
        return
    labels = []
    prev = "O"
    for _, tag in tagged:
        labels.append("O" if tag == "O" else ("I-" if tag == prev else "B-") + tag)
        prev = tag
    spans = decode_spans(tokens, labels)
    assert bio_labels(tokens, spans) == labels
    assert all(s.start < s.end for s in spans)
