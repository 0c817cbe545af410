"""Bring-your-own ONNX models: each kind runs and maps to tags; bad files are refused by name."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from models.errors import (
    InferenceError,
    InputContractError,
    ModelTooLargeError,
    NotOnnxError,
    OutputContractError,
    TagMapError,
    UserModelError,
)
from models.user_contract import UserModelKind
from models.user_models import load_user_model
from tests.models import tiny_models

RGB = {0: "red", 1: "green", 2: "blue"}


def solid(colour: tuple[int, int, int], size: tuple[int, int] = (20, 30)) -> np.ndarray:
    image = np.zeros((*size, 3), dtype=np.uint8)
    image[:, :] = colour
    return image


def test_image_classifier_maps_classes_to_tags_at_any_image_size() -> None:
    model = load_user_model(tiny_models.image_classifier(), "image_classifier", RGB)
    red, blue = model.classify([solid((255, 0, 0)), solid((0, 0, 255), (100, 7))])
    assert max(red, key=red.__getitem__) == "red"
    assert max(blue, key=blue.__getitem__) == "blue"
    assert sum(red.values()) == pytest.approx(1.0, abs=1e-5)


def test_image_classifier_sums_classes_mapped_to_one_tag_and_ignores_unmapped() -> None:
    model = load_user_model(
        tiny_models.image_classifier(), "image_classifier", {0: "warm", 1: "warm"}
    )
    (scores,) = model.classify([np.full((8, 8), 128, np.uint8)])
    assert scores == {"warm": pytest.approx(2 / 3, abs=1e-5)}


def test_image_classifier_with_logits_gets_softmax_or_sigmoid() -> None:
    data = tiny_models.image_classifier(output="logits")
    model = load_user_model(data, "image_classifier", RGB)
    (single,) = model.classify([solid((255, 0, 0))])
    (multi,) = model.classify([solid((255, 0, 0))], multilabel=True)
    assert sum(single.values()) == pytest.approx(1.0, abs=1e-5)
    assert multi["red"] == pytest.approx(1.0, abs=1e-6)
    assert multi["green"] == pytest.approx(0.5, abs=1e-6)


def test_grey_models_take_colour_images() -> None:
    data = tiny_models.image_classifier(shape=(1, 1, "H", "W"), n_classes=2)
    model = load_user_model(data, "image_classifier", {0: "a", 1: "b"})
    (scores,) = model.classify([solid((255, 255, 255))])
    assert scores["a"] == pytest.approx(0.5)


def test_detector_boxes_come_back_in_image_pixels_for_mapped_classes_only() -> None:
    boxes = np.array([[1, 2, 9, 10], [0, 0, 4, 4], [12, 12, 30, 30]])
    data = tiny_models.object_detector(boxes, np.array([0.9, 0.3, 0.8]), np.array([1, 2, 1]))
    model = load_user_model(data, "object_detector", {1: "car"})
    found = model.detect(np.zeros((32, 64, 3), np.uint8))
    # 16×16 model input → 64 wide, 32 high: x scaled by 4, y by 2; the last box is clipped.
    assert [(b.tag, b.x, b.y, b.w, b.h) for b in found] == [
        ("car", 4.0, 4.0, 32.0, 16.0),
        ("car", 48.0, 24.0, 16.0, 8.0),
    ]
    assert found[0].score == pytest.approx(0.9)
    assert model.detect(np.zeros((32, 64), np.uint8), min_score=0.85)[0].score == pytest.approx(0.9)
    assert len(model.detect(np.zeros((32, 64), np.uint8), min_score=0.85)) == 1


def test_segmenter_gives_masks_and_polygons_in_image_pixels() -> None:
    model = load_user_model(tiny_models.segmenter(), "segmenter", {1: "lesion"})
    image = np.zeros((64, 64, 3), np.uint8)
    image[8:40, 16:48, 0] = 255
    (region,) = model.segment(image)
    assert region.tag == "lesion"
    assert region.mask.shape == (64, 64)
    assert region.mask.sum() == 32 * 32
    assert region.polygons == [[(16.0, 8.0), (48.0, 8.0), (48.0, 40.0), (16.0, 40.0)]]
    assert region.score > 0.99
    assert model.segment(np.zeros((64, 64), np.uint8)) == []


def test_text_classifier_takes_strings_in_either_declared_shape() -> None:
    for shape in (("N",), ("N", 1)):
        model = load_user_model(tiny_models.text_classifier(shape), "text_classifier", {1: "pos"})
        good, bad = model.classify(["Good", "a bad day"])
        assert good["pos"] == pytest.approx(0.9)
        assert bad["pos"] == pytest.approx(0.2)
        assert model.classify([]) == []


def test_token_classifier_gives_spans_with_code_point_offsets() -> None:
    data = tiny_models.token_classifier({"Zoë": 1, "Ångström": 2, "Paris": 3}, 4)
    model = load_user_model(data, "token_classifier", {1: "B-Person", 2: "I-Person", 3: "Place"})
    text = "🙂 Zoë Ångström went to Paris."
    spans = model.spans(text)
    assert [(text[s.start : s.end], s.tag) for s in spans] == [
        ("Zoë Ångström", "Person"),
        ("Paris", "Place"),
    ]
    assert spans[0].start == 2  # the emoji is one code point
    assert spans[0].score == pytest.approx(0.9)
    assert model.spans("   ") == []


# Refusals: each names the problem.


def test_not_onnx_is_refused() -> None:
    for data in (b"", b"hello, I am a model", bytes(range(256)) * 4):
        with pytest.raises(NotOnnxError, match="not an ONNX model"):
            load_user_model(data, "image_classifier", RGB)


def test_too_large_is_refused_before_parsing() -> None:
    data = tiny_models.image_classifier()
    with pytest.raises(ModelTooLargeError, match=f"{len(data)} bytes, over the limit of 100") as e:
        load_user_model(data, "image_classifier", RGB, max_bytes=100)
    assert (e.value.size, e.value.limit) == (len(data), 100)
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        (("N", 4, 8, 8), "4 channels"),
        (("N", 3, 8), r"shape \[N, 3, 8\], expected \[N, 1\|3, H, W\]"),
    ],
)
def test_wrong_input_shape_is_refused(shape: tuple[int | str, ...], message: str) -> None:
    data = tiny_models.image_classifier(shape=shape) if len(shape) == 4 else _rank3_classifier()
    with pytest.raises(InputContractError, match=message):
        load_user_model(data, "image_classifier", RGB)


def _rank3_classifier() -> bytes:
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["mean"], axes=[2], keepdims=0),
        helper.make_node("Softmax", ["mean"], ["probabilities"], axis=-1),
    ]
    return tiny_models.finish(
        nodes,
        [tiny_models.image_input(["N", 3, 8])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 3])],
    )


def test_a_text_model_is_not_an_image_model_and_back() -> None:
    with pytest.raises(InputContractError, match="input 'text' is string, expected float32"):
        load_user_model(tiny_models.text_classifier(), "image_classifier", RGB)
    with pytest.raises(InputContractError, match="input 'image' is float32, expected string"):
        load_user_model(tiny_models.image_classifier(), "text_classifier", RGB)


@pytest.mark.parametrize("kind", ["image_classifier", "object_detector", "segmenter"])
def test_a_batch_fixed_above_one_is_refused(kind: UserModelKind) -> None:
    data = tiny_models.image_classifier(shape=(4, 3, 8, 8))
    with pytest.raises(InputContractError, match="batch 4, expected 1 or symbolic"):
        load_user_model(data, kind, {0: "car"})


def test_a_batch_fixed_at_one_takes_many_items_in_turn() -> None:
    model = load_user_model(
        tiny_models.image_classifier(shape=(1, 3, 8, 8)), "image_classifier", RGB
    )
    assert len(model.classify([solid((255, 0, 0))] * 3)) == 3
    text = load_user_model(tiny_models.text_classifier((1,)), "text_classifier", {1: "pos"})
    assert [s["pos"] for s in text.classify(["good", "bad", "good"])] == pytest.approx(
        [0.9, 0.2, 0.9]
    )


def test_wrong_output_names_are_refused_naming_what_is_there() -> None:
    data = tiny_models.image_classifier(output="scores")
    with pytest.raises(
        OutputContractError, match="'probabilities' or 'logits'; the model has 'scores'"
    ):
        load_user_model(data, "image_classifier", RGB)
    with pytest.raises(
        OutputContractError,
        match="missing output\\(s\\) 'boxes', 'classes'; the model has 'scores'",
    ):
        load_user_model(data, "object_detector", RGB)
    with pytest.raises(OutputContractError, match="missing output 'masks'"):
        load_user_model(data, "segmenter", RGB)


def test_tag_map_must_name_classes_the_model_has() -> None:
    data = tiny_models.image_classifier(n_classes=3)
    with pytest.raises(TagMapError, match="names class 5, but the model has 3 classes"):
        load_user_model(data, "image_classifier", {5: "x"})
    with pytest.raises(TagMapError, match="empty"):
        load_user_model(data, "image_classifier", {})


def test_weights_in_external_files_are_refused() -> None:
    proto = onnx.load_from_string(tiny_models.image_classifier())
    weight = proto.graph.initializer[0]
    weight.ClearField("raw_data")
    weight.ClearField("float_data")
    weight.data_location = TensorProto.EXTERNAL
    weight.external_data.add(key="location", value="../../etc/passwd")
    with pytest.raises(NotOnnxError, match="stored outside the file"):
        load_user_model(proto.SerializeToString(), "image_classifier", RGB)


def test_every_refusal_is_a_value_error_with_the_kind_in_its_message() -> None:
    with pytest.raises(UserModelError) as e:
        load_user_model(b"nope", "segmenter", {1: "x"})
    assert isinstance(e.value, ValueError)
    assert str(e.value).startswith("segmenter model refused: ")


def test_a_model_that_fails_at_inference_raises_inference_error() -> None:
    # Declares a fixed 8×8 input but its reshape needs 3·16·16 values: it loads, then fails.
    nodes = [
        helper.make_node("Reshape", ["image", "shape"], ["flat"]),
        helper.make_node("Softmax", ["flat"], ["probabilities"], axis=-1),
    ]
    data = tiny_models.finish(
        nodes,
        [tiny_models.image_input(["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 3])],
        [tiny_models.const("shape", np.array([-1, 768], np.int64))],
    )
    model = load_user_model(data, "image_classifier", RGB)
    with pytest.raises(InferenceError, match="image_classifier model: inference failed"):
        model.classify([np.zeros((5, 5), np.uint8)])
