"""Tiny ONNX models of each user-model kind, built with `onnx.helper` for the tests."""

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

Dim = int | str


def finish(
    nodes: list[onnx.NodeProto],
    inputs: list[onnx.ValueInfoProto],
    outputs: list[onnx.ValueInfoProto],
    initializers: Sequence[onnx.TensorProto] = (),
    *,
    ml: bool = False,
) -> bytes:
    opsets = [helper.make_opsetid("", 17)]
    if ml:
        opsets.append(helper.make_opsetid("ai.onnx.ml", 3))
    graph = helper.make_graph(nodes, "tiny", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    onnx.checker.check_model(model)
    data: bytes = model.SerializeToString()
    return data


def image_input(shape: Sequence[Dim], name: str = "image") -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def const(name: str, value: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(value, name)


def image_classifier(
    *,
    shape: Sequence[Dim] = ("N", 3, 8, 8),
    output: str = "probabilities",
    n_classes: int = 3,
) -> bytes:
    """Class c scores the mean of channel c (channels cycled): red images are class 0."""
    channels = int(shape[1]) if isinstance(shape[1], int) else 3
    weight = np.zeros((channels, n_classes), dtype=np.float32)
    for c in range(n_classes):
        weight[c % channels, c] = 20.0
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["mean"], axes=[2, 3], keepdims=0),
        helper.make_node("MatMul", ["mean", "w"], ["z"]),
        helper.make_node("Softmax", ["z"], [output], axis=-1)
        if output == "probabilities"
        else helper.make_node("Identity", ["z"], [output]),
    ]
    out = helper.make_tensor_value_info(output, TensorProto.FLOAT, [shape[0], n_classes])
    return finish(nodes, [image_input(shape)], [out], [const("w", weight)])


def object_detector(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray) -> bytes:
    """Always the given detections (in the coordinates of its 16×16 input)."""
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["m"], keepdims=0),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Add", ["b", "z"], ["boxes"]),
        helper.make_node("Add", ["s", "z"], ["scores"]),
        helper.make_node("Identity", ["c"], ["classes"]),
    ]
    k = len(scores)
    outs = [
        helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [k, 4]),
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, [k]),
        helper.make_tensor_value_info("classes", TensorProto.INT64, [k]),
    ]
    inits = [
        const("zero", np.array(0.0, np.float32)),
        const("b", boxes.astype(np.float32)),
        const("s", scores.astype(np.float32)),
        const("c", classes.astype(np.int64)),
    ]
    return finish(nodes, [image_input([1, 3, 16, 16])], outs, inits)


def segmenter() -> bytes:
    """Two classes on a 16×16 input: 1 where the red channel is over one half, else 0."""
    nodes = [
        helper.make_node("Slice", ["image", "start", "end", "axis"], ["red"]),
        helper.make_node("Sub", ["red", "half"], ["d"]),
        helper.make_node("Mul", ["d", "gain"], ["one"]),
        helper.make_node("Neg", ["one"], ["zero"]),
        helper.make_node("Concat", ["zero", "one"], ["z"], axis=1),
        helper.make_node("Softmax", ["z"], ["masks"], axis=1),
    ]
    inits = [
        const("start", np.array([0], np.int64)),
        const("end", np.array([1], np.int64)),
        const("axis", np.array([1], np.int64)),
        const("half", np.array(0.5, np.float32)),
        const("gain", np.array(10.0, np.float32)),
    ]
    out = helper.make_tensor_value_info("masks", TensorProto.FLOAT, [1, 2, 16, 16])
    return finish(nodes, [image_input([1, 3, 16, 16])], [out], inits)


def text_classifier(shape: Sequence[Dim] = ("N",)) -> bytes:
    """Two classes: 1 (p = 0.9) for exactly "good" or "Good", else 0 (p = 0.8)."""
    nodes = [
        helper.make_node(
            "LabelEncoder",
            ["text"],
            ["p"],
            domain="ai.onnx.ml",
            keys_strings=["good", "Good"],
            values_floats=[0.9, 0.9],
            default_float=0.2,
        ),
        helper.make_node("Reshape", ["p", "col"], ["p1"]),
        helper.make_node("Sub", ["one", "p1"], ["q1"]),
        helper.make_node("Concat", ["q1", "p1"], ["probabilities"], axis=1),
    ]
    inits = [const("col", np.array([-1, 1], np.int64)), const("one", np.array(1.0, np.float32))]
    inp = helper.make_tensor_value_info("text", TensorProto.STRING, list(shape))
    out = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2])
    return finish(nodes, [inp], [out], inits, ml=True)


def token_classifier(classes_of: dict[str, int], n_classes: int) -> bytes:
    """Each token's class by a lookup table (default 0), as probabilities 0.9 / rest shared."""
    nodes = [
        helper.make_node(
            "LabelEncoder",
            ["tokens"],
            ["ids"],
            domain="ai.onnx.ml",
            keys_strings=list(classes_of),
            values_int64s=list(classes_of.values()),
            default_int64=0,
        ),
        helper.make_node("OneHot", ["ids", "depth", "values"], ["hot"], axis=-1),
        helper.make_node("Mul", ["hot", "scale"], ["scaled"]),
        helper.make_node("Add", ["scaled", "floor"], ["probabilities"]),
    ]
    rest = 0.1 / (n_classes - 1)
    inits = [
        const("depth", np.array(n_classes, np.int64)),
        const("values", np.array([0.0, 1.0], np.float32)),
        const("scale", np.array(0.9 - rest, np.float32)),
        const("floor", np.array(rest, np.float32)),
    ]
    inp = helper.make_tensor_value_info("tokens", TensorProto.STRING, ["T"])
    out = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["T", n_classes])
    return finish(nodes, [inp], [out], inits, ml=True)
