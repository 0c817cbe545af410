"""A trained linear model: one weight matrix and bias, calibration already folded in.

`logits = features @ weight + bias`, then softmax (`multiclass`, `token`: one row per token)
or an element-wise sigmoid (`multilabel`: one-vs-rest). Standardisation and the temperature
are folded into `weight` and `bias` at training time, so numpy and the ONNX graph compute the
same two operations and agree to float32 rounding.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from models.types import FloatArray

Kind = Literal["multiclass", "multilabel", "token"]
KINDS: tuple[Kind, ...] = ("multiclass", "multilabel", "token")


@dataclass(frozen=True)
class LinearModel:
    kind: Kind
    classes: tuple[str, ...]
    weight: FloatArray
    """(features, classes) float32."""
    bias: FloatArray
    """(classes,) float32."""
    temperature: float = 1.0
    """Already folded into weight and bias; kept as a record of the calibration."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.weight.ndim != 2 or self.weight.shape[1] != len(self.classes):
            raise ValueError(
                f"weight has shape {self.weight.shape}, expected (features, {len(self.classes)})"
            )
        if self.bias.shape != (len(self.classes),):
            raise ValueError(f"bias has shape {self.bias.shape}, expected ({len(self.classes)},)")

    @property
    def n_features(self) -> int:
        return int(self.weight.shape[0])

    def logits(self, features: FloatArray) -> FloatArray:
        x = np.asarray(features, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"features have shape {x.shape}, expected (N, {self.n_features})")
        out: FloatArray = x @ self.weight + self.bias
        return out

    def probabilities(self, features: FloatArray) -> FloatArray:
        z = self.logits(features)
        return sigmoid(z) if self.kind == "multilabel" else softmax(z)


def softmax(z: FloatArray) -> FloatArray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    out: FloatArray = e / e.sum(axis=-1, keepdims=True)
    return out


def sigmoid(z: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (np.tanh(0.5 * z) + 1.0)
    return out.astype(z.dtype, copy=False)
