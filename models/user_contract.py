"""The contract a user's ONNX model must meet, checked when it is uploaded (see docs/assist.md).

    kind              input (exactly one)       outputs, by name
    image_classifier  float32 [N, 1|3, H, W]    `probabilities` or `logits` [N, K]
    object_detector   float32 [1, 1|3, H, W]    `boxes` [K, 4], `scores` [K], `classes` [K]
    segmenter         float32 [1, 1|3, H, W]    `masks`: [1, K, h, w] scores or [1, h, w] ids
    text_classifier   string [N] or [N, 1]      `probabilities` or `logits` [N, K]
    token_classifier  string [T]                `probabilities` or `logits` [T, K]

A dimension may be symbolic (any size) where the table gives a letter; a fixed one must be as
shown, and a batch dimension (N) may also be fixed at 1. Detector outputs may carry a leading
batch dimension of 1. `check` refuses, with an error naming the problem: a file over the size
limit, bytes that are not ONNX (or weights kept in external files, which would make the server
read other paths), the wrong number of inputs, an input of the wrong type, rank, channel count
or batch, a missing output, an output of the wrong rank, and a tag map that names a class the
model does not have.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import onnx
from onnx import TensorProto

from models.errors import (
    InputContractError,
    ModelTooLargeError,
    NotOnnxError,
    OutputContractError,
    TagMapError,
)

UserModelKind = Literal[
    "image_classifier", "object_detector", "segmenter", "text_classifier", "token_classifier"
]
USER_MODEL_KINDS: tuple[UserModelKind, ...] = (
    "image_classifier",
    "object_detector",
    "segmenter",
    "text_classifier",
    "token_classifier",
)
MAX_MODEL_BYTES = 256 * 1024 * 1024

Dim = int | str | None
"""A fixed size, a symbolic name, or unknown."""

_SCORES = ("probabilities", "logits")
_IMAGE_KINDS = ("image_classifier", "object_detector", "segmenter")
_TYPE_NAMES: dict[int, str] = {TensorProto.FLOAT: "float32", TensorProto.STRING: "string"}


@dataclass(frozen=True)
class Contract:
    """What `check` learnt about an accepted model."""

    kind: UserModelKind
    input_name: str
    input_shape: tuple[Dim, ...]
    outputs: dict[str, tuple[Dim, ...]]
    score_output: str | None
    """`probabilities` or `logits` for classifiers; None for detectors and segmenters."""
    n_classes: int | None
    """K when the model fixes it, else None."""

    @property
    def channels(self) -> int:
        c = self.input_shape[1]
        assert isinstance(c, int)
        return c

    @property
    def size(self) -> tuple[int, int] | None:
        """The (H, W) the model wants its images at, or None if it takes any size."""
        h, w = self.input_shape[2], self.input_shape[3]
        return (h, w) if isinstance(h, int) and isinstance(w, int) else None


def check(
    data: bytes,
    kind: UserModelKind,
    tag_map: Mapping[int, str],
    *,
    max_bytes: int = MAX_MODEL_BYTES,
) -> Contract:
    if kind not in USER_MODEL_KINDS:
        raise ValueError(f"unknown user model kind {kind!r}; one of {USER_MODEL_KINDS}")
    if len(data) > max_bytes:
        raise ModelTooLargeError(kind, len(data), max_bytes)
    proto = _parse(data, kind)
    name, shape = _check_input(proto, kind)
    outputs = {o.name: _shape(o) for o in proto.graph.output}
    score_output, n_classes = _check_outputs(outputs, kind)
    _check_tag_map(tag_map, n_classes, kind)
    return Contract(kind, name, shape, outputs, score_output, n_classes)


def _parse(data: bytes, kind: str) -> onnx.ModelProto:
    try:
        proto = onnx.load_from_string(data)
    except Exception as e:  # protobuf's DecodeError and friends
        raise NotOnnxError(kind, f"the file is not an ONNX model ({e})") from e
    if not proto.graph.node or not proto.opset_import or proto.ir_version <= 0:
        raise NotOnnxError(kind, "the file is not an ONNX model (no graph, opset or IR version)")
    for tensor in proto.graph.initializer:
        if tensor.data_location == TensorProto.EXTERNAL:
            raise NotOnnxError(
                kind, f"weight {tensor.name!r} is stored outside the file; embed all weights"
            )
    try:
        onnx.checker.check_model(proto)
    except Exception as e:  # onnx.checker.ValidationError and errors of its C++ core
        raise NotOnnxError(kind, f"the ONNX model is invalid: {e}") from e
    return proto


def _check_input(proto: onnx.ModelProto, kind: UserModelKind) -> tuple[str, tuple[Dim, ...]]:
    weights = {t.name for t in proto.graph.initializer}
    inputs = [i for i in proto.graph.input if i.name not in weights]
    if len(inputs) != 1:
        names = ", ".join(repr(i.name) for i in inputs) or "none"
        raise InputContractError(kind, f"expected exactly one input, the model has {names}")
    value = inputs[0]
    elem = value.type.tensor_type.elem_type
    shape = _shape(value)
    where = f"input {value.name!r}"
    if kind in _IMAGE_KINDS:
        want = "[N, 1|3, H, W]" if kind == "image_classifier" else "[1, 1|3, H, W]"
        if elem != TensorProto.FLOAT:
            raise InputContractError(kind, f"{where} is {_type_name(elem)}, expected float32")
        if len(shape) != 4:
            raise InputContractError(kind, f"{where} has shape {_show(shape)}, expected {want}")
        if shape[1] not in (1, 3):
            raise InputContractError(
                kind, f"{where} has {shape[1]} channels (shape {_show(shape)}), expected 1 or 3"
            )
        _check_batch(kind, where, shape)
        return value.name, shape
    want = "[N] or [N, 1]" if kind == "text_classifier" else "[T]"
    if elem != TensorProto.STRING:
        raise InputContractError(kind, f"{where} is {_type_name(elem)}, expected string")
    ok = len(shape) == 1 or (kind == "text_classifier" and len(shape) == 2 and shape[1] == 1)
    if not ok:
        raise InputContractError(kind, f"{where} has shape {_show(shape)}, expected {want}")
    if kind == "text_classifier":
        _check_batch(kind, where, shape)
    return value.name, shape


def _check_batch(kind: str, where: str, shape: tuple[Dim, ...]) -> None:
    """Items go one at a time or all together: a batch fixed at 2 or more fits neither."""
    if isinstance(shape[0], int) and shape[0] != 1:
        raise InputContractError(kind, f"{where} has batch {shape[0]}, expected 1 or symbolic")


def _check_outputs(
    outputs: dict[str, tuple[Dim, ...]], kind: UserModelKind
) -> tuple[str | None, int | None]:
    have = ", ".join(repr(n) for n in outputs) or "none"
    if kind == "object_detector":
        missing = [n for n in ("boxes", "scores", "classes") if n not in outputs]
        if missing:
            raise OutputContractError(
                kind, f"missing output(s) {', '.join(map(repr, missing))}; the model has {have}"
            )
        for name, rank in (("boxes", 2), ("scores", 1), ("classes", 1)):
            _rank(kind, name, outputs[name], (rank, rank + 1))
        box = outputs["boxes"]
        if box and isinstance(box[-1], int) and box[-1] != 4:
            raise OutputContractError(
                kind, f"output 'boxes' has shape {_show(box)}, expected [K, 4]"
            )
        return None, None
    if kind == "segmenter":
        if "masks" not in outputs:
            raise OutputContractError(kind, f"missing output 'masks'; the model has {have}")
        shape = _rank(kind, "masks", outputs["masks"], (3, 4))
        k = shape[1] if len(shape) == 4 and isinstance(shape[1], int) else None
        return None, k
    found = [n for n in _SCORES if n in outputs]
    if not found:
        raise OutputContractError(
            kind, f"missing output 'probabilities' or 'logits'; the model has {have}"
        )
    shape = _rank(kind, found[0], outputs[found[0]], (2,))
    k = shape[-1] if shape and isinstance(shape[-1], int) else None
    return found[0], k


def _check_tag_map(tag_map: Mapping[int, str], n_classes: int | None, kind: str) -> None:
    if not tag_map:
        raise TagMapError(kind, "the tag map is empty: map at least one model class to a tag")
    for index, tag in tag_map.items():
        if not isinstance(index, int) or index < 0:
            raise TagMapError(kind, f"tag map key {index!r} is not a class index (an int ≥ 0)")
        if not isinstance(tag, str) or not tag:
            raise TagMapError(kind, f"class {index} is mapped to {tag!r}, not a tag name")
        if n_classes is not None and index >= n_classes:
            raise TagMapError(
                kind, f"the tag map names class {index}, but the model has {n_classes} classes"
            )


def _rank(kind: str, name: str, shape: tuple[Dim, ...], ranks: tuple[int, ...]) -> tuple[Dim, ...]:
    if shape and len(shape) not in ranks:
        want = " or ".join(str(r) for r in ranks)
        raise OutputContractError(
            kind, f"output {name!r} has rank {len(shape)} ({_show(shape)}), expected rank {want}"
        )
    return shape


def _shape(value: onnx.ValueInfoProto) -> tuple[Dim, ...]:
    """The declared shape; () when the model declares none."""
    tensor = value.type.tensor_type
    if not tensor.HasField("shape"):
        return ()
    dims: list[Dim] = []
    for d in tensor.shape.dim:
        if d.HasField("dim_value"):
            dims.append(int(d.dim_value))
        elif d.HasField("dim_param"):
            dims.append(str(d.dim_param))
        else:
            dims.append(None)
    return tuple(dims)


def _show(shape: tuple[Dim, ...]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def _type_name(elem: int) -> str:
    return _TYPE_NAMES.get(elem) or str(TensorProto.DataType.Name(elem)).lower()
