"""Bring-your-own ONNX models: load (checked against `models.user_contract`), run, map to tags.

The caller gives a tag map, model class index → project tag name; classes it leaves out are
ignored (a detection or region of such a class is dropped; a classification whose best class
is unmapped proposes nothing). Several classes may map to one tag: their probabilities add up
(softmax models) or the highest counts (sigmoid models). For a token classifier the map's
values are BIO labels with tag names (`B-Person`, `I-Person`) or bare tag names (per-token).

Images reach a model as float32 RGB (or grey, for one channel) in [0, 1], laid out
[1, C, H, W], resized to the model's H × W when it fixes one. Detections and regions come back
in the pixel coordinates of the original image. A model that raises or returns outputs off
its contract raises `InferenceError`; the worker disables it and labeling goes on manually.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, overload

import numpy as np
import onnxruntime as ort

from models.errors import InferenceError, NotOnnxError
from models.image_features import area_resize
from models.inference import run, session
from models.linear import sigmoid, softmax
from models.polygons import Point, mask_polygons
from models.tokens import OUTSIDE, Span, decode_spans, tokenize
from models.types import BoolArray, FloatArray, UInt8Array
from models.user_contract import MAX_MODEL_BYTES, Contract, UserModelKind, check

TagScores = dict[str, float]


@dataclass(frozen=True)
class DetectedBox:
    tag: str
    x: float
    y: float
    w: float
    h: float
    score: float


@dataclass(frozen=True)
class SegmentedRegion:
    tag: str
    mask: BoolArray
    """(H, W) at the original image's size."""
    polygons: list[list[Point]]
    score: float
    """Mean probability of the region's class over its pixels (1 for class-id outputs)."""


class UserModel:
    def __init__(self, contract: Contract, sess: ort.InferenceSession, tags: Mapping[int, str]):
        self.contract = contract
        self.kind: UserModelKind = contract.kind
        self.tag_map = dict(tags)
        self._session = sess
        self._name = f"{contract.kind} model"

    def _run(self, feed: np.ndarray) -> dict[str, np.ndarray]:
        names = [o.name for o in self._session.get_outputs()]
        values = run(self._session, self._name, {self.contract.input_name: feed})
        return dict(zip(names, values, strict=True))

    def _fail(self, problem: str) -> InferenceError:
        return InferenceError(self._name, problem)

    def _scores(self, outputs: dict[str, np.ndarray], n: int, multilabel: bool) -> FloatArray:
        name = self.contract.score_output
        assert name is not None
        raw = np.asarray(outputs[name], dtype=np.float32)
        if raw.ndim != 2 or raw.shape[0] != n:
            raise self._fail(f"output {name!r} has shape {raw.shape}, expected ({n}, K)")
        if name == "logits":
            return sigmoid(raw) if multilabel else softmax(raw)
        return raw

    def _tag_scores(self, probabilities: FloatArray, multilabel: bool) -> list[TagScores]:
        out: list[TagScores] = []
        for row in probabilities:
            scores: TagScores = {}
            for index, tag in self.tag_map.items():
                if index >= len(row):
                    raise self._fail(
                        f"the model returned {len(row)} classes; class {index} is mapped"
                    )
                p = float(row[index])
                scores[tag] = (
                    max(scores.get(tag, 0.0), p) if multilabel else scores.get(tag, 0.0) + p
                )
            out.append(scores)
        return out

    def _image_tensor(self, image: UInt8Array) -> tuple[FloatArray, tuple[int, int]]:
        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise ValueError(
                f"an image must be a (H, W[, C]) uint8 array, got {image.dtype} {image.shape}"
            )
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[:, :, 0]
        rgb = np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image[:, :, :3]
        original = (int(rgb.shape[0]), int(rgb.shape[1]))
        pixels = rgb.astype(np.float64)
        size = self.contract.size
        if size is not None and size != original:
            pixels = area_resize(pixels, *size)
        if self.contract.channels == 1:
            pixels = (pixels @ np.array([0.299, 0.587, 0.114]))[:, :, None]
        tensor = (pixels / 255.0).transpose(2, 0, 1)[None].astype(np.float32)
        return np.ascontiguousarray(tensor), original


class ImageClassifier(UserModel):
    def classify(
        self, images: Sequence[UInt8Array], *, multilabel: bool = False
    ) -> list[TagScores]:
        """Per image, the probability of each mapped tag."""
        out: list[TagScores] = []
        for image in images:  # one at a time: images differ in size, models in batch support
            tensor, _ = self._image_tensor(image)
            probs = self._scores(self._run(tensor), 1, multilabel)
            out.extend(self._tag_scores(probs, multilabel))
        return out


class TextClassifier(UserModel):
    def classify(self, texts: Sequence[str], *, multilabel: bool = False) -> list[TagScores]:
        if not texts:
            return []
        if self.contract.input_shape[0] == 1 and len(texts) > 1:
            return [s for text in texts for s in self.classify([text], multilabel=multilabel)]
        feed = np.array(list(texts), dtype=object)
        if len(self.contract.input_shape) == 2:
            feed = feed[:, None]
        probs = self._scores(self._run(feed), len(texts), multilabel)
        return self._tag_scores(probs, multilabel)


class TokenClassifier(UserModel):
    def spans(self, text: str) -> list[Span]:
        """Spans (code point offsets) decoded from the model's per-token classes."""
        tokens = tokenize(text)
        if not tokens:
            return []
        outputs = self._run(np.array([t.text for t in tokens], dtype=object))
        name = self.contract.score_output
        assert name is not None
        raw = np.asarray(outputs[name], dtype=np.float32)
        if raw.ndim == 3 and raw.shape[0] == 1:
            raw = raw[0]
        if raw.ndim != 2 or raw.shape[0] != len(tokens):
            raise self._fail(f"output {name!r} has shape {raw.shape}, expected ({len(tokens)}, K)")
        probs = softmax(raw) if name == "logits" else raw
        best = probs.argmax(axis=1)
        labels = [self.tag_map.get(int(i), OUTSIDE) for i in best]
        return decode_spans(tokens, labels, probs.max(axis=1).tolist())


class ObjectDetector(UserModel):
    def detect(self, image: UInt8Array, *, min_score: float = 0.0) -> list[DetectedBox]:
        """Boxes of mapped classes scoring at least `min_score`, clipped to the image."""
        tensor, (height, width) = self._image_tensor(image)
        out = self._run(tensor)
        boxes = _squeeze(np.asarray(out["boxes"], dtype=np.float64), 2)
        scores = _squeeze(np.asarray(out["scores"], dtype=np.float64), 1)
        classes = _squeeze(np.asarray(out["classes"]), 1)
        k = len(scores)
        if boxes.shape != (k, 4) or classes.shape != (k,):
            raise self._fail(
                f"boxes {boxes.shape}, scores {scores.shape}, classes {classes.shape} "
                "do not agree on K (expected [K, 4], [K], [K])"
            )
        sy, sx = height / tensor.shape[2], width / tensor.shape[3]
        found: list[DetectedBox] = []
        for (x1, y1, x2, y2), score, cls in zip(boxes, scores, classes, strict=True):
            tag = self.tag_map.get(int(cls))
            if tag is None or not score >= min_score:
                continue
            left, right = np.clip([min(x1, x2) * sx, max(x1, x2) * sx], 0, width)
            top, bottom = np.clip([min(y1, y2) * sy, max(y1, y2) * sy], 0, height)
            if right > left and bottom > top:
                box = DetectedBox(
                    tag,
                    float(left),
                    float(top),
                    float(right - left),
                    float(bottom - top),
                    float(np.clip(score, 0.0, 1.0)),
                )
                found.append(box)
        return found


class Segmenter(UserModel):
    def segment(
        self, image: UInt8Array, *, min_area: int = 16, tolerance: float = 1.0
    ) -> list[SegmentedRegion]:
        """One region per mapped class present: its mask, its polygons, its mean probability."""
        tensor, (height, width) = self._image_tensor(image)
        masks = np.asarray(self._run(tensor)["masks"])
        if masks.ndim == 4 and masks.shape[0] == 1:
            probs = masks[0].astype(np.float32)
            if masks.dtype.kind != "f":
                raise self._fail(f"output 'masks' [1, K, h, w] must be scores, got {masks.dtype}")
            class_map = probs.argmax(axis=0)
            best = probs.max(axis=0)
        elif masks.ndim == 3 and masks.shape[0] == 1:
            class_map = masks[0].astype(np.int64)
            best = np.ones(class_map.shape, dtype=np.float32)
        else:
            raise self._fail(
                f"output 'masks' has shape {masks.shape}, expected [1, K, h, w] or [1, h, w]"
            )
        h, w = class_map.shape
        rows = np.minimum((np.arange(height) + 0.5) * h / height, h - 1).astype(np.int64)
        cols = np.minimum((np.arange(width) + 0.5) * w / width, w - 1).astype(np.int64)
        regions: list[SegmentedRegion] = []
        by_tag: dict[str, BoolArray] = {}
        for index, tag in sorted(self.tag_map.items()):
            small = class_map == index
            by_tag[tag] = by_tag[tag] | small if tag in by_tag else small
        for tag, small in by_tag.items():
            if not small.any():
                continue
            polygons = mask_polygons(
                small,
                min_area=max(1, round(min_area * h * w / (height * width))),
                tolerance=tolerance,
                scale=(width / w, height / h),
            )
            mask = small[rows][:, cols]
            if polygons or mask.sum() >= min_area:
                regions.append(SegmentedRegion(tag, mask, polygons, float(best[small].mean())))
        return regions


_CLASSES: dict[UserModelKind, type[UserModel]] = {
    "image_classifier": ImageClassifier,
    "object_detector": ObjectDetector,
    "segmenter": Segmenter,
    "text_classifier": TextClassifier,
    "token_classifier": TokenClassifier,
}


@overload
def load_user_model(
    data: bytes,
    kind: Literal["image_classifier"],
    tag_map: Mapping[int, str],
    *,
    max_bytes: int = ...,
    threads: int = ...,
) -> ImageClassifier: ...
@overload
def load_user_model(
    data: bytes,
    kind: Literal["object_detector"],
    tag_map: Mapping[int, str],
    *,
    max_bytes: int = ...,
    threads: int = ...,
) -> ObjectDetector: ...
@overload
def load_user_model(
    data: bytes,
    kind: Literal["segmenter"],
    tag_map: Mapping[int, str],
    *,
    max_bytes: int = ...,
    threads: int = ...,
) -> Segmenter: ...
@overload
def load_user_model(
    data: bytes,
    kind: Literal["text_classifier"],
    tag_map: Mapping[int, str],
    *,
    max_bytes: int = ...,
    threads: int = ...,
) -> TextClassifier: ...
@overload
def load_user_model(
    data: bytes,
    kind: Literal["token_classifier"],
    tag_map: Mapping[int, str],
    *,
    max_bytes: int = ...,
    threads: int = ...,
) -> TokenClassifier: ...
@overload
def load_user_model(
    data: bytes,
    kind: UserModelKind,
    tag_map: Mapping[int, str],
    *,
    max_bytes: int = ...,
    threads: int = ...,
) -> UserModel: ...
def load_user_model(
    data: bytes,
    kind: UserModelKind,
    tag_map: Mapping[int, str],
    *,
    max_bytes: int = MAX_MODEL_BYTES,
    threads: int = 1,
) -> UserModel:
    """Check a user's ONNX file against its kind's contract and load it, or raise a
    `UserModelError` that names the problem."""
    contract = check(data, kind, tag_map, max_bytes=max_bytes)
    try:
        sess = session(data, threads=threads)
    except Exception as e:  # onnxruntime's own exception types
        raise NotOnnxError(kind, f"onnxruntime cannot load the model: {e}") from e
    return _CLASSES[kind](contract, sess, tag_map)


def _squeeze(a: np.ndarray, rank: int) -> np.ndarray:
    return a[0] if a.ndim == rank + 1 and a.shape[0] == 1 else a
