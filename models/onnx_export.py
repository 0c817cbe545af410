"""A trained `LinearModel` as an ONNX graph, built with `onnx.helper`, checked by `onnx.checker`.

The graph: `features` (float32, [N, D]) → MatMul(weight) → Add(bias) → `logits` ([N, C]) →
Softmax, or Sigmoid for multi-label → `probabilities` ([N, C]). The kind, the class names and
the temperature travel in the model's metadata, so a stored file is enough to rebuild the
model (`load_linear_model`). Serialisation is deterministic: the same model gives the same
bytes, hence the same `model_hash`.
"""

import hashlib
import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from models.linear import KINDS, LinearModel

OPSET = 17
IR_VERSION = 8
FORMAT = "annolog-linear-v1"
INPUT = "features"
OUTPUTS = ("logits", "probabilities")


def to_onnx(model: LinearModel) -> onnx.ModelProto:
    d, c = model.weight.shape
    nodes = [
        helper.make_node("MatMul", [INPUT, "weight"], ["scores"]),
        helper.make_node("Add", ["scores", "bias"], ["logits"]),
        helper.make_node("Sigmoid", ["logits"], ["probabilities"])
        if model.kind == "multilabel"
        else helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        f"annolog_{model.kind}",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", d])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", c]) for name in OUTPUTS],
        initializer=[
            numpy_helper.from_array(np.ascontiguousarray(model.weight, np.float32), "weight"),
            numpy_helper.from_array(np.ascontiguousarray(model.bias, np.float32), "bias"),
        ],
    )
    proto = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="annolog"
    )
    proto.ir_version = IR_VERSION
    helper.set_model_props(
        proto,
        {
            "format": FORMAT,
            "kind": model.kind,
            "classes": json.dumps(list(model.classes), ensure_ascii=False),
            "temperature": repr(model.temperature),
        },
    )
    onnx.checker.check_model(proto, full_check=True)
    return proto


def export_model(model: LinearModel) -> bytes:
    """The ONNX file of a model, as bytes."""
    data: bytes = to_onnx(model).SerializeToString(deterministic=True)
    return data


def model_hash(data: bytes) -> str:
    """SHA-256 of a model file, the name it is stored under (64 hex characters)."""
    return hashlib.sha256(data).hexdigest()


def load_linear_model(data: bytes) -> LinearModel:
    """Rebuild a `LinearModel` from bytes made by `export_model`."""
    proto = onnx.load_from_string(data)
    props = {p.key: p.value for p in proto.metadata_props}
    if props.get("format") != FORMAT:
        raise ValueError(f"not an annolog linear model (format {props.get('format')!r})")
    kind = props["kind"]
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}")
    weights = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    return LinearModel(
        kind=kind,
        classes=tuple(json.loads(props["classes"])),
        weight=weights["weight"].astype(np.float32),
        bias=weights["bias"].astype(np.float32),
        temperature=float(props["temperature"]),
    )
