"""The prelabel threshold holds the target precision, with a Wilson bound when labels are few."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.threshold import (
    choose_threshold,
    multiclass_outcomes,
    multilabel_outcomes,
    token_outcomes,
    wilson_lower_bound,
)
from models.training import train_multiclass
from tests.models.conftest import Digits


def test_wilson_bound_known_values() -> None:
    assert wilson_lower_bound(50, 50) == pytest.approx(50 / (50 + 1.645**2))
    assert wilson_lower_bound(0, 10) == 0.0
    assert wilson_lower_bound(0, 0) == 0.0
    assert wilson_lower_bound(81, 100, z=1.96) == pytest.approx(0.7222, abs=1e-4)


def test_fifty_right_answers_are_not_yet_enough_for_95_percent() -> None:
    confidence = np.linspace(0.5, 1.0, 50)
    threshold = choose_threshold(confidence, np.ones(50, bool))
    assert threshold.value is None
    assert not threshold.accepts(np.array([1.0])).any()
    assert choose_threshold(confidence, np.ones(50, bool), z=0).value == 0.5  # plain rule


def test_the_lowest_confidence_that_meets_the_target() -> None:
    # 200 items right above 0.6, then wrong ones mixed in below.
    rng = np.random.default_rng(0)
    confidence = np.concatenate([rng.uniform(0.6, 1.0, 200), rng.uniform(0.0, 0.6, 100)])
    correct = np.concatenate([np.ones(200, bool), rng.random(100) < 0.5])
    t = choose_threshold(confidence, correct, 0.95)
    assert t.value is not None
    assert t.value <= 0.6
    assert t.lower_bound >= 0.95
    assert np.mean(correct[confidence >= t.value]) >= 0.95
    assert t.support == int(np.sum(confidence >= t.value))
    assert t.coverage == pytest.approx(t.support / 300)


def test_ties_are_kept_together() -> None:
    t = choose_threshold(
        np.array([0.9] * 100 + [0.8] * 100), np.array([True] * 100 + [False] * 100)
    )
    assert t.value == 0.9
    assert t.support == 100


@given(
    st.lists(st.tuples(st.floats(0, 1), st.booleans()), max_size=200),
    st.floats(0.5, 0.99),
)
def test_the_bound_of_the_chosen_set_always_meets_the_target(
    items: list[tuple[float, bool]], target: float
) -> None:
    confidence = np.array([c for c, _ in items])
    correct = np.array([r for _, r in items], dtype=bool)
    t = choose_threshold(confidence, correct, target)
    if t.value is None:
        return
    chosen = confidence >= t.value
    assert wilson_lower_bound(int(correct[chosen].sum()), int(chosen.sum())) >= target
    assert t.support == int(chosen.sum())


def test_on_digits_the_target_holds_on_the_unlabeled_pool(digits: Digits) -> None:
    for seed in range(3):
        order = np.random.default_rng(seed).permutation(len(digits.labels))
        train, pool = order[:200], order[200:]
        result = train_multiclass(digits.features[train], digits.labels[train], digits.classes)
        t = choose_threshold(*multiclass_outcomes(result.heldout, digits.labels[train]))
        confidence, correct = multiclass_outcomes(
            result.model.probabilities(digits.features[pool]), digits.labels[pool]
        )
        chosen = t.accepts(confidence)
        assert chosen.mean() >= 0.6
        assert correct[chosen].mean() >= 0.95


def test_outcomes_of_multilabel_and_token_predictions() -> None:
    probs = np.array([[0.9, 0.2], [0.6, 0.7]], np.float32)
    confidence, correct = multilabel_outcomes(probs, np.array([[1, 0], [1, 0]], bool))
    np.testing.assert_allclose(confidence, [0.8, 0.6])
    assert correct.tolist() == [True, False]
    token_probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]], np.float32)
    confidence, correct = token_outcomes(token_probs, np.array([0, 0, 0]), np.array([0, 0, 1]))
    np.testing.assert_allclose(confidence, [0.6, 0.8])
    assert correct.tolist() == [True, False]
