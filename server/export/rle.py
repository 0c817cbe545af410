"""COCO run-length encoding of semantic masks, through pycocotools (the reference encoder)."""

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from pycocotools import mask as coco_mask  # type: ignore[import-untyped]

from events.project import TagSpec
from server.export.model import Mask


def encode_binary(binary: npt.NDArray[np.bool_]) -> dict[str, Any]:
    """The compressed RLE of one binary mask, JSON-ready: {"size": [h, w], "counts": str}."""
    encoded = coco_mask.encode(np.asfortranarray(binary.astype(np.uint8)))
    counts = encoded["counts"]
    return {"size": [int(v) for v in encoded["size"]], "counts": counts.decode("ascii")}


def encode_mask(mask: Mask, tags: Sequence[TagSpec]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(tag, RLE) for each tag present in the mask (value = the tag's position + 1)."""
    for value in np.unique(mask):
        index = int(value) - 1
        if 0 <= index < len(tags):
            yield tags[index].name, encode_binary(mask == value)


def stats(encoded: dict[str, Any]) -> tuple[float, list[float]]:
    """The area and [x, y, w, h] box of an RLE, as pycocotools computes them."""
    raw = {"size": encoded["size"], "counts": encoded["counts"].encode("ascii")}
    area = float(coco_mask.area(raw))
    box = [float(v) for v in coco_mask.toBbox(raw)]
    return area, box


def decode(encoded: dict[str, Any]) -> npt.NDArray[np.bool_]:
    """A binary mask from an RLE (compressed counts as text, or uncompressed as a list)."""
    height, width = (int(v) for v in encoded["size"])
    counts = encoded["counts"]
    if isinstance(counts, list):
        raw = coco_mask.frPyObjects({"size": [height, width], "counts": counts}, height, width)
    else:
        raw = {"size": [height, width], "counts": str(counts).encode("ascii")}
    decoded: npt.NDArray[np.uint8] = coco_mask.decode(raw)
    return decoded.astype(bool)
