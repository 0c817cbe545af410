"""Running ONNX models with onnxruntime on the CPU.

`session` is the one place a session is made: CPU provider only, a fixed thread count (one by
default: the worker shares the machine with the web process), runtime errors translated to
`InferenceError`. `LinearPredictor` runs a model made by `models.onnx_export`.
"""

import json
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

from models.errors import InferenceError
from models.onnx_export import FORMAT, INPUT
from models.types import FloatArray

PROVIDERS = ["CPUExecutionProvider"]


def session(data: bytes, *, threads: int = 1) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(data, sess_options=options, providers=PROVIDERS)


def run(sess: ort.InferenceSession, name: str, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """All outputs of `sess` for `feeds`; any runtime failure becomes an `InferenceError`."""
    try:
        outputs: list[np.ndarray] = sess.run(None, feeds)
    except Exception as e:  # onnxruntime raises several unrelated exception types
        raise InferenceError(name, str(e)) from e
    return outputs


@dataclass(frozen=True)
class Prediction:
    logits: FloatArray
    probabilities: FloatArray


class LinearPredictor:
    """An exported linear model, ready to run on feature matrices."""

    def __init__(self, data: bytes, *, threads: int = 1) -> None:
        self._session = session(data, threads=threads)
        props = self._session.get_modelmeta().custom_metadata_map
        if props.get("format") != FORMAT:
            raise ValueError(f"not an annolog linear model (format {props.get('format')!r})")
        self.kind: str = props["kind"]
        self.classes: tuple[str, ...] = tuple(json.loads(props["classes"]))
        self.n_features = int(self._session.get_inputs()[0].shape[1])

    def predict(self, features: FloatArray) -> Prediction:
        x = np.ascontiguousarray(features, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"features have shape {x.shape}, expected (N, {self.n_features})")
        logits, probabilities = run(self._session, f"{self.kind} model", {INPUT: x})
        return Prediction(logits=logits, probabilities=probabilities)
