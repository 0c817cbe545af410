"""Export to ONNX: checked, deterministic, and matching numpy to 1e-5 under onnxruntime."""

import numpy as np
import onnx
import pytest

from models.inference import LinearPredictor
from models.linear import LinearModel
from models.onnx_export import export_model, load_linear_model, model_hash, to_onnx
from models.training import train_multiclass, train_multilabel, train_token_classifier
from tests.models.conftest import Digits


def trained(digits: Digits) -> list[LinearModel]:
    x, y = digits.features[:300], digits.labels[:300]
    multi = np.stack([y % 2 == 0, y >= 5], axis=1)
    tokens = [x[i : i + 10] for i in range(0, 300, 10)]
    token_labels = [y[i : i + 10] for i in range(0, 300, 10)]
    return [
        train_multiclass(x, y, digits.classes).model,
        train_multilabel(x, multi, ["even", "big"]).model,
        train_token_classifier(tokens, token_labels, digits.classes).model,
    ]


def test_onnx_matches_numpy_to_1e_5(digits: Digits) -> None:
    for model in trained(digits):
        predictor = LinearPredictor(export_model(model))
        out = predictor.predict(digits.features)
        np.testing.assert_allclose(
            out.probabilities, model.probabilities(digits.features), rtol=0, atol=1e-5
        )
        np.testing.assert_allclose(out.logits, model.logits(digits.features), rtol=1e-5, atol=1e-5)
        assert predictor.kind == model.kind
        assert predictor.classes == model.classes


def test_the_graph_passes_the_checker_and_is_small(digits: Digits) -> None:
    model = trained(digits)[0]
    proto = to_onnx(model)
    onnx.checker.check_model(proto, full_check=True)
    assert [o.name for o in proto.graph.output] == ["logits", "probabilities"]
    assert len(export_model(model)) < 64 * 1024


def test_export_is_deterministic_and_round_trips(digits: Digits) -> None:
    for model in trained(digits):
        data = export_model(model)
        assert export_model(model) == data
        assert len(model_hash(data)) == 64
        back = load_linear_model(data)
        assert (back.kind, back.classes) == (model.kind, model.classes)
        np.testing.assert_array_equal(back.weight, model.weight)
        assert back.temperature == model.temperature


def test_tag_names_with_any_characters_survive(digits: Digits) -> None:
    model = LinearModel(
        kind="multiclass",
        classes=("chat 🐈", 'say "hi"', "naïve"),
        weight=np.zeros((4, 3), np.float32),
        bias=np.zeros(3, np.float32),
    )
    assert LinearPredictor(export_model(model)).classes == model.classes


def test_predictor_refuses_wrong_feature_width(digits: Digits) -> None:
    predictor = LinearPredictor(export_model(trained(digits)[0]))
    with pytest.raises(ValueError, match=r"expected \(N, 448\)"):
        predictor.predict(np.zeros((2, 10), np.float32))


def test_an_empty_batch_runs(digits: Digits) -> None:
    predictor = LinearPredictor(export_model(trained(digits)[0]))
    assert predictor.predict(np.zeros((0, 448), np.float32)).probabilities.shape == (0, 10)
