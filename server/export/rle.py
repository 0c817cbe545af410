"""COCO run-length encoding of semantic masks, through pycocotools (the reference encoder)."""

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from pycocotools import mask as coco_mask  # type: ignore[import-untyped]

from events.project import TagSpec
from server.export.model import Mask

# Up to this many values, a comparison per value finds those present quicker than a count.
FEW_VALUES = 16


def encode_binary(binary: npt.NDArray[np.bool_]) -> dict[str, Any]:
    """The compressed RLE of one binary mask, JSON-ready: {"size": [h, w], "counts": str}."""
    # Booleans are bytes of 0 or 1: viewed, not copied; a mask laid out by columns is not
    # copied by asfortranarray either.
    encoded = coco_mask.encode(np.asfortranarray(binary.view(np.uint8)))
    counts = encoded["counts"]
    return {"size": [int(v) for v in encoded["size"]], "counts": counts.decode("ascii")}


def present(mask: Mask) -> list[int]:
    """The non-zero values of a mask, ascending."""
    top = int(mask.max(initial=0))
    if top <= FEW_VALUES:
        # Each comparison is vectorized; a count converts every pixel to an int64 first (at
        # 256 × 256: 3 µs against 150 µs).
        return [value for value in range(1, top + 1) if (mask == value).any()]
    # A count per value: far quicker than a sort; order K reads the mask as it is laid out.
    counts = np.bincount(mask.ravel(order="K"))
    return [int(v) for v in np.flatnonzero(counts[1:]) + 1]


def encode_mask(mask: Mask, tags: Sequence[TagSpec]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(tag, RLE) for each tag present in the mask (value = the tag's position + 1)."""
    for value in present(mask):
        if value <= len(tags):
            yield tags[value - 1].name, encode_binary(mask == value)


def stats(encoded: dict[str, Any]) -> tuple[float, list[float]]:
    """The area and [x, y, w, h] box of an RLE, as pycocotools computes them."""
    raw = {"size": encoded["size"], "counts": encoded["counts"].encode("ascii")}
    area = float(coco_mask.area(raw))
    box = [float(v) for v in coco_mask.toBbox(raw)]
    return area, box


def counts_of(text: bytes) -> list[int]:
    """The run lengths of a compressed RLE string (pycocotools' rleFrString, in Python)."""
    counts: list[int] = []
    position = 0
    while position < len(text):
        value, shift, more = 0, 0, True
        while more:
            if position >= len(text):
                raise ValueError("the RLE string ends inside a number")
            c = text[position] - 48
            value |= (c & 0x1F) << shift
            more = bool(c & 0x20)
            position += 1
            shift += 5
            if not more and c & 0x10:
                value |= -1 << shift
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
    return counts


def decode(encoded: dict[str, Any]) -> npt.NDArray[np.bool_]:
    """A binary mask from an RLE: compressed counts as text, or uncompressed as a list.

    Decoded here rather than by pycocotools, whose `decode` warns under NumPy 2 (its mask
    array type lacks the `copy` keyword) and must not touch the process's warning filters
    from a worker thread.
    """
    height, width = (int(v) for v in encoded["size"])
    counts = encoded["counts"]
    runs = counts if isinstance(counts, list) else counts_of(str(counts).encode("ascii"))
    if any(not isinstance(r, int) or r < 0 for r in runs) or sum(runs) != height * width:
        raise ValueError(f"the runs do not cover a {width}x{height} mask")
    values = np.arange(len(runs)) % 2 == 1
    flat = np.repeat(values, runs)
    # RLE runs go down the columns (Fortran order).
    return flat.reshape(width, height).T.copy()
