"""Training: accurate on digits, calibrated, deterministic, and the three problem shapes."""

import numpy as np
import pytest

from models.errors import TrainingError
from models.text_features import text_features
from models.token_features import text_token_features
from models.tokens import bio_labels, decode_probabilities, label_classes
from models.training import (
    TEXT_CONFIG,
    TrainConfig,
    train_multiclass,
    train_multilabel,
    train_token_classifier,
)
from tests.models.conftest import Digits
from tests.models.ner_data import sentences


def split(n_items: int, n_train: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n_items)
    return order[:n_train], order[n_train:]


@pytest.mark.parametrize(("labels", "accuracy"), [(50, 0.75), (200, 0.9), (800, 0.96)])
def test_multiclass_accuracy_on_digits(digits: Digits, labels: int, accuracy: float) -> None:
    train, test = split(len(digits.labels), labels)
    result = train_multiclass(digits.features[train], digits.labels[train], digits.classes)
    predicted = result.model.probabilities(digits.features[test]).argmax(axis=1)
    assert np.mean(predicted == digits.labels[test]) >= accuracy
    assert result.metrics["heldout_accuracy"] >= accuracy - 0.05
    assert result.heldout.shape == (labels, 10)
    np.testing.assert_allclose(result.heldout.sum(axis=1), 1.0, atol=1e-5)


def test_calibration_makes_held_out_confidence_honest(digits: Digits) -> None:
    train, test = split(len(digits.labels), 400)
    result = train_multiclass(digits.features[train], digits.labels[train], digits.classes)
    probs = result.model.probabilities(digits.features[test])
    confidence, right = probs.max(axis=1), probs.argmax(axis=1) == digits.labels[test]
    # Expected calibration error over 10 bins: small when confidence means what it says.
    bins = np.minimum((confidence * 10).astype(int), 9)
    ece = sum(
        abs(confidence[bins == b].mean() - right[bins == b].mean()) * np.mean(bins == b)
        for b in range(10)
        if np.any(bins == b)
    )
    assert ece < 0.05
    assert 0.05 < result.model.temperature < 20


def test_training_is_deterministic_given_a_seed(digits: Digits) -> None:
    x, y = digits.features[:150], digits.labels[:150]
    a = train_multiclass(x, y, digits.classes, TrainConfig(seed=3))
    b = train_multiclass(x, y, digits.classes, TrainConfig(seed=3))
    c = train_multiclass(x, y, digits.classes, TrainConfig(seed=4))
    np.testing.assert_array_equal(a.model.weight, b.model.weight)
    np.testing.assert_array_equal(a.heldout, b.heldout)
    assert not np.array_equal(a.heldout, c.heldout)  # other folds


def test_multilabel_one_vs_rest_on_digits(digits: Digits) -> None:
    y = np.stack([digits.labels % 2 == 0, digits.labels >= 5, digits.labels == 7], axis=1)
    train, test = split(len(y), 400)
    result = train_multilabel(digits.features[train], y[train], ["even", "big", "seven"])
    probs = result.model.probabilities(digits.features[test])
    assert result.model.kind == "multilabel"
    assert np.mean((probs >= 0.5) == y[test]) >= 0.9
    assert np.mean(np.all((probs >= 0.5) == y[test], axis=1)) >= 0.8
    assert not np.allclose(probs.sum(axis=1), 1.0)  # independent sigmoids


def test_token_classifier_finds_spans_in_unseen_sentences() -> None:
    classes = label_classes(["PER", "LOC"])
    feats, labels = [], []
    for text, spans in sentences(120, seed=1):
        tokens, x = text_token_features(text, dim=1024)
        feats.append(x)
        labels.append(np.array([classes.index(b) for b in bio_labels(tokens, spans)]))
    result = train_token_classifier(feats, labels, classes)
    assert result.model.kind == "token"
    assert result.groups.shape == (sum(len(lab) for lab in labels),)
    right = 0
    test = sentences(40, seed=2)
    for text, spans in test:
        tokens, x = text_token_features(text, dim=1024)
        found = decode_probabilities(tokens, result.model.probabilities(x), classes)
        right += [(s.start, s.end, s.tag) for s in found] == [
            (s.start, s.end, s.tag) for s in spans
        ]
    assert right / len(test) >= 0.9


def test_bad_training_input_is_refused(digits: Digits) -> None:
    x, y = digits.features[:20], digits.labels[:20]
    with pytest.raises(TrainingError, match="at least two classes"):
        train_multiclass(x, np.zeros(20, np.int64), digits.classes)
    with pytest.raises(TrainingError, match="20 feature rows but 19 labels"):
        train_multiclass(x, y[:19], digits.classes)
    with pytest.raises(TrainingError, match=r"class indices in \[0, 3\)"):
        train_multiclass(x, y, ["a", "b", "c"])
    with pytest.raises(TrainingError, match="NaN"):
        train_multiclass(np.full_like(x, np.nan), y, digits.classes)
    with pytest.raises(TrainingError, match="at least 2 labeled texts"):
        train_token_classifier([x], [y], digits.classes)


TOPICS = (
    "match goal team player score coach league season referee stadium",
    "recipe cook dinner sauce pasta bake oven flavour chef lunch",
    "computer software code bug server network laptop phone app chip",
)
COMMON = "the a is was and of to in on for with today really very we they"


def topic_texts(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Short texts on three topics, two words in three from a shared vocabulary."""
    rng = np.random.default_rng(seed)
    topics = [words.split() for words in TOPICS]
    common = COMMON.split()
    labels = rng.integers(0, 3, n)
    texts = [
        " ".join(
            str(rng.choice(topics[y])) if rng.random() < 0.3 else str(rng.choice(common))
            for _ in range(rng.integers(6, 16))
        )
        for y in labels
    ]
    return texts, labels.astype(np.int64)


def test_text_classification_on_hashed_features() -> None:
    train_texts, train_y = topic_texts(200, seed=0)
    test_texts, test_y = topic_texts(300, seed=1)
    result = train_multiclass(
        text_features(train_texts), train_y, ["sport", "food", "tech"], TEXT_CONFIG
    )
    predicted = result.model.probabilities(text_features(test_texts)).argmax(axis=1)
    assert np.mean(predicted == test_y) >= 0.9
