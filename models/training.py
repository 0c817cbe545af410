"""Training: softmax regression in numpy, calibrated by temperature on held-out predictions.

Three shapes of problem, one linear model each:
- multi-class: one softmax over the classes;
- multi-label: one-vs-rest, an independent sigmoid per class (fitted jointly: same result);
- per-token (NER): a softmax over BIO classes, one row per token, folds split by text.

Each fit minimises the mean cross-entropy plus `l2/2 · ‖W‖²` with L-BFGS from zeros, on
features standardised by the training rows (optional: hashed text is better left as is).
K-fold cross-validation gives an out-of-fold prediction for every labeled row; one
temperature is fitted on those logits (minimum NLL), then the final model is fitted on all
rows and the standardisation and the temperature are folded into its weights. The
out-of-fold probabilities, recalibrated, come back with the model: they are the held-out
predictions that `models.threshold` picks the prelabel threshold from.

Deterministic given `TrainConfig.seed`: the seed only shuffles the folds.
"""

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.errors import TrainingError
from models.linear import Kind, LinearModel, sigmoid, softmax
from models.optimize import golden_section, minimize
from models.types import BoolArray, Float64Array, FloatArray, IntArray


@dataclass(frozen=True)
class TrainConfig:
    l2: float = 1e-2
    standardize: bool = True
    folds: int = 5
    max_iter: int = 300
    seed: int = 0


IMAGE_CONFIG = TrainConfig()
TEXT_CONFIG = TrainConfig(l2=1e-4, standardize=False)
TOKEN_CONFIG = TrainConfig(l2=1e-4, standardize=False, folds=3)


@dataclass(frozen=True)
class TrainingResult:
    model: LinearModel
    heldout: FloatArray
    """Out-of-fold calibrated probabilities, one row per training row (per token for NER)."""
    groups: IntArray
    """The labeled item of each row of `heldout` (0..N-1; for NER, the text of each token)."""
    metrics: dict[str, float]


def train_multiclass(
    features: FloatArray,
    labels: IntArray,
    classes: Sequence[str],
    config: TrainConfig = IMAGE_CONFIG,
) -> TrainingResult:
    """`labels[i]` is the class index of row i."""
    x, y = _check(features, np.asarray(labels), classes, multilabel=False)
    if len(np.unique(y)) < 2:
        raise TrainingError("multi-class training needs labels of at least two classes")
    targets = np.eye(len(classes))[y]
    folds = _stratified_folds(y, config)
    groups = np.arange(len(y), dtype=np.int64)
    return _train(x, targets, classes, "multiclass", folds, groups, config)


def train_multilabel(
    features: FloatArray,
    labels: BoolArray,
    classes: Sequence[str],
    config: TrainConfig = IMAGE_CONFIG,
) -> TrainingResult:
    """`labels[i, c]` says whether row i carries class c."""
    x, y = _check(features, np.asarray(labels), classes, multilabel=True)
    folds = _folds(len(y), config)
    groups = np.arange(len(y), dtype=np.int64)
    return _train(x, y.astype(np.float64), classes, "multilabel", folds, groups, config)


def train_token_classifier(
    features: Sequence[FloatArray],
    labels: Sequence[IntArray],
    classes: Sequence[str],
    config: TrainConfig = TOKEN_CONFIG,
) -> TrainingResult:
    """One (T_i, D) matrix and T_i class indices (see `models.tokens.label_classes`) per text."""
    if len(features) != len(labels):
        raise TrainingError(f"{len(features)} feature matrices but {len(labels)} label arrays")
    if len(features) < 2:
        raise TrainingError(f"token training needs at least 2 labeled texts, got {len(features)}")
    for i, (f, lab) in enumerate(zip(features, labels, strict=True)):
        if f.ndim != 2 or f.shape[0] != len(lab):
            raise TrainingError(f"text {i}: features {f.shape} do not match {len(lab)} labels")
    x, y = _check(np.concatenate(features), np.concatenate(labels), classes, multilabel=False)
    groups = np.repeat(np.arange(len(labels), dtype=np.int64), [len(lab) for lab in labels])
    item_folds = _folds(len(labels), config)
    return _train(x, np.eye(len(classes))[y], classes, "token", item_folds[groups], groups, config)


def _train(
    x: FloatArray,
    targets: Float64Array,
    classes: Sequence[str],
    kind: Kind,
    folds: IntArray,
    groups: IntArray,
    config: TrainConfig,
) -> TrainingResult:
    began = time.perf_counter()
    multilabel = kind == "multilabel"
    oof = np.zeros(targets.shape, dtype=np.float64)
    for k in range(int(folds.max()) + 1):
        held = folds == k
        w, b, _ = _fit(x[~held], targets[~held], multilabel, config)
        oof[held] = x[held] @ w + b
    temperature = _fit_temperature(oof, targets, multilabel)
    w, b, iterations = _fit(x, targets, multilabel, config)
    model = LinearModel(
        kind=kind,
        classes=tuple(classes),
        weight=(w / temperature).astype(np.float32),
        bias=(b / temperature).astype(np.float32),
        temperature=temperature,
    )
    scaled = (oof / temperature).astype(np.float32)
    heldout = sigmoid(scaled) if multilabel else softmax(scaled)
    metrics = {
        "labels": float(groups.max() + 1),
        "heldout_accuracy": _accuracy(heldout, targets, groups, multilabel),
        "heldout_nll": _nll(oof / temperature, targets, multilabel),
        "temperature": temperature,
        "iterations": float(iterations),
        "train_seconds": time.perf_counter() - began,
    }
    return TrainingResult(model=model, heldout=heldout, groups=groups, metrics=metrics)


def _fit(
    x: FloatArray, targets: Float64Array, multilabel: bool, config: TrainConfig
) -> tuple[Float64Array, Float64Array, int]:
    """Weights and bias in the original feature space (standardisation folded in)."""
    n, d = x.shape
    c = targets.shape[1]
    if config.standardize:
        mean = x.mean(axis=0, dtype=np.float64)
        std = np.maximum(x.std(axis=0, dtype=np.float64), 1e-3)
    else:
        mean, std = np.zeros(d), np.ones(d)
    xs = (x - mean) / std

    def objective(theta: Float64Array) -> tuple[float, Float64Array]:
        w = theta[: d * c].reshape(d, c)
        z = xs @ w + theta[d * c :]
        if multilabel:
            loss = float(np.sum(np.logaddexp(0.0, z) - targets * z)) / n
            dz = (sigmoid(z) - targets) / n
        else:
            lse = _logsumexp(z)
            loss = float(np.sum(lse) - np.sum(targets * z)) / n
            dz = (np.exp(z - lse[:, None]) - targets) / n
        loss += 0.5 * config.l2 * float(np.sum(w * w))
        grad_w = xs.T @ dz + config.l2 * w
        return loss, np.concatenate([grad_w.ravel(), dz.sum(axis=0)])

    theta, _, iterations = minimize(objective, np.zeros(d * c + c), max_iter=config.max_iter)
    w_s = theta[: d * c].reshape(d, c)
    w = w_s / std[:, None]
    b = theta[d * c :] - (mean / std) @ w_s
    return w, b, iterations


def _fit_temperature(logits: Float64Array, targets: Float64Array, multilabel: bool) -> float:
    log_t = golden_section(
        lambda t: _nll(logits / math.exp(t), targets, multilabel), math.log(0.05), math.log(20.0)
    )
    return math.exp(log_t)


def _nll(logits: Float64Array, targets: Float64Array, multilabel: bool) -> float:
    if multilabel:
        return float(np.mean(np.sum(np.logaddexp(0.0, logits) - targets * logits, axis=1)))
    return float(np.mean(_logsumexp(logits) - np.sum(targets * logits, axis=1)))


def _logsumexp(z: Float64Array) -> Float64Array:
    top = z.max(axis=1)
    out: Float64Array = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    return out


def _accuracy(
    probabilities: FloatArray, targets: Float64Array, groups: IntArray, multilabel: bool
) -> float:
    """Share of items entirely right: all classes for multi-label, all tokens for NER."""
    if multilabel:
        right = np.all((probabilities >= 0.5) == (targets > 0.5), axis=1)
    else:
        right = probabilities.argmax(axis=1) == targets.argmax(axis=1)
    per_item = np.bincount(groups, weights=~right) == 0
    return float(np.mean(per_item))


def _check(
    features: FloatArray,
    labels: np.ndarray,
    classes: Sequence[str],
    *,
    multilabel: bool,
) -> tuple[FloatArray, IntArray]:
    x = np.asarray(features, dtype=np.float32)
    if x.ndim != 2:
        raise TrainingError(f"features must be a 2-D matrix, got shape {x.shape}")
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise TrainingError(f"classes must be at least two distinct names, got {list(classes)}")
    if len(labels) != len(x):
        raise TrainingError(f"{len(x)} feature rows but {len(labels)} labels")
    if len(x) < 2:
        raise TrainingError(f"training needs at least 2 labeled rows, got {len(x)}")
    if not np.all(np.isfinite(x)):
        raise TrainingError("features contain NaN or infinity")
    if multilabel:
        if labels.ndim != 2 or labels.shape[1] != len(classes):
            raise TrainingError(
                f"multi-label labels must be (N, {len(classes)}), got {labels.shape}"
            )
        return x, labels.astype(np.int64)
    y = labels.astype(np.int64)
    if labels.ndim != 1 or y.min() < 0 or y.max() >= len(classes):
        raise TrainingError(f"labels must be class indices in [0, {len(classes)})")
    return x, y


def _folds(n: int, config: TrainConfig) -> IntArray:
    k = max(2, min(config.folds, n))
    order = np.random.default_rng(config.seed).permutation(n)
    folds = np.empty(n, dtype=np.int64)
    folds[order] = np.arange(n) % k
    return folds


def _stratified_folds(y: IntArray, config: TrainConfig) -> IntArray:
    """Each class dealt round-robin over the folds, after a seeded shuffle."""
    k = max(2, min(config.folds, len(y)))
    shuffled = np.random.default_rng(config.seed).permutation(len(y))
    order = shuffled[np.argsort(y[shuffled], kind="stable")]
    folds = np.empty(len(y), dtype=np.int64)
    folds[order] = np.arange(len(y)) % k
    return folds
