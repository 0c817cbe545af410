"""The prelabel threshold: the lowest confidence at which precision meets the target.

Given held-out items (their confidence and whether the model was right), sort by confidence
and, for each cut, count the items at or above it and the right ones among them. The
threshold is the lowest cut whose precision reaches the target — judged not by the observed
precision but by its Wilson score lower bound (one-sided, z = 1.645 by default: 95%), so with
few labels the target holds even when that means no prelabels yet: 50 items all right give a
bound of 0.949, short of 0.95. With many labels the bound approaches the observed precision.
`z = 0` gives the plain observed-precision rule.

Cuts fall only between distinct confidences: items tied with the threshold are all in.
"""

import math
from dataclasses import dataclass

import numpy as np

from models.types import BoolArray, FloatArray, IntArray

DEFAULT_TARGET = 0.95
DEFAULT_Z = 1.645


@dataclass(frozen=True)
class Threshold:
    value: float | None
    """Prelabel when confidence ≥ value; None: the target cannot be met yet, prelabel nothing."""
    target: float
    support: int
    """Held-out items at or above the threshold."""
    precision: float
    """Observed precision of those items (1.0 when there are none)."""
    lower_bound: float
    coverage: float
    """Share of the held-out items at or above the threshold."""

    def accepts(self, confidence: FloatArray) -> BoolArray:
        c = np.asarray(confidence)
        if self.value is None:
            return np.zeros(c.shape, dtype=np.bool_)
        out: BoolArray = c >= self.value
        return out


def wilson_lower_bound(right: int, total: int, z: float = DEFAULT_Z) -> float:
    """The Wilson score interval's lower end for `right` successes out of `total`."""
    if total == 0:
        return 0.0
    p = right / total
    z2 = z * z
    centre = p + z2 / (2 * total)
    margin = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total))
    return max(0.0, (centre - margin) / (1 + z2 / total))


def choose_threshold(
    confidence: FloatArray,
    correct: BoolArray,
    target: float = DEFAULT_TARGET,
    *,
    z: float = DEFAULT_Z,
) -> Threshold:
    """The lowest confidence whose items meet `target` precision (by the Wilson bound)."""
    conf = np.asarray(confidence, dtype=np.float64).ravel()
    right = np.asarray(correct, dtype=np.bool_).ravel()
    if conf.shape != right.shape:
        raise ValueError(f"{conf.size} confidences but {right.size} outcomes")
    if not 0.0 < target <= 1.0:
        raise ValueError(f"target must be in (0, 1], got {target}")
    n = conf.size
    order = np.argsort(-conf, kind="stable")
    conf, right = conf[order], right[order]
    cum_right = np.cumsum(right)
    # Only cut after the last of a run of equal confidences.
    ends = np.flatnonzero(np.append(conf[1:] != conf[:-1], True)) if n else np.array([], int)
    best: Threshold | None = None
    for end in ends:
        total, good = int(end) + 1, int(cum_right[end])
        bound = wilson_lower_bound(good, total, z)
        if bound >= target:
            best = Threshold(
                value=float(conf[end]),
                target=target,
                support=total,
                precision=good / total,
                lower_bound=bound,
                coverage=total / n,
            )
    if best is None:
        return Threshold(None, target, 0, 1.0, 0.0, 0.0)
    return best


def multiclass_outcomes(
    probabilities: FloatArray, labels: IntArray
) -> tuple[FloatArray, BoolArray]:
    """(confidence, correct) per item: the top probability, and whether its class is right."""
    confidence: FloatArray = probabilities.max(axis=1)
    correct: BoolArray = probabilities.argmax(axis=1) == np.asarray(labels)
    return confidence, correct


def multilabel_outcomes(
    probabilities: FloatArray, labels: BoolArray, cut: float = 0.5
) -> tuple[FloatArray, BoolArray]:
    """Per item: the least sure class decision, and whether the whole label set is right."""
    confidence: FloatArray = np.maximum(probabilities, 1 - probabilities).min(axis=1)
    correct: BoolArray = np.all((probabilities >= cut) == np.asarray(labels, bool), axis=1)
    return confidence, correct


def token_outcomes(
    probabilities: FloatArray, labels: IntArray, groups: IntArray
) -> tuple[FloatArray, BoolArray]:
    """Per text (grouped tokens): its least sure token, and whether every token is right."""
    n = int(groups.max()) + 1 if groups.size else 0
    wrong = np.bincount(groups, weights=probabilities.argmax(axis=1) != labels, minlength=n)
    confidence = np.ones(n, dtype=np.float32)
    np.minimum.at(confidence, groups, probabilities.max(axis=1))
    correct: BoolArray = wrong == 0
    return confidence, correct
