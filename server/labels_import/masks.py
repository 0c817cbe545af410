"""PNG mask labels of semantic projects: a zip of `SegmentationClass/**/<name>.png` and an
optional `legend.json` ([{"value", "tag", "colour"}], as annolog writes it).

A palette or greyscale PNG's pixel values are tags: by the legend, else by position in the
project's tag set (value 1 is the first tag; 0 is background). An RGB(A) PNG's colours are
tags by the legend's colours, else the project's tag colours; black is background. Each mask
must be the image's size. It becomes brush strokes of radius ½ along each row's runs, which
the projection rasterizes back to exactly these pixels.
"""

import io
from collections.abc import Iterator
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
from PIL import Image

from server.labels_import.archive import after_folder, claimed_ids, members
from server.labels_import.context import Context
from server.labels_import.frames import framed_builder
from server.labels_import.records import Fault, Parsed, Problem, Record, Skipped
from server.media.archives import Member

FOLDER = "SegmentationClass"
MAX_PIXELS = 100_000_000


class LegendEntry(msgspec.Struct):
    value: int
    tag: str | None
    colour: str | None = None


def parse(data: bytes, context: Context) -> Iterator[Parsed]:
    legend = [
        LegendEntry(value=i + 1, tag=t.name, colour=t.colour) for i, t in enumerate(context.tags)
    ]
    files: list[Member] = []
    for member in members(data):
        if not isinstance(member, Member):
            yield member
        elif member.name.rsplit("/", 1)[-1] == "legend.json":
            try:
                legend = msgspec.json.decode(member.data, type=list[LegendEntry])
            except msgspec.DecodeError as exc:
                yield Problem(member.name, f"not a legend: {exc}")
                return
        elif member.name.lower().endswith(".png") and after_folder(member.name, FOLDER):
            files.append(member)
        else:
            yield Skipped(member.name, f"neither legend.json nor a {FOLDER}/ PNG")
    by_value = {e.value: e.tag for e in legend if e.tag is not None and e.value != 0}
    by_colour = {_rgb(e.colour): e.value for e in legend if e.colour and e.tag is not None}
    claimed = claimed_ids(files, context)
    for member in files:
        try:
            yield _record(member, context, by_value, by_colour, claimed)
        except Fault as exc:
            yield Problem(member.name, exc.message)


def _rgb(colour: str) -> int:
    return int(colour.lstrip("#")[:6], 16)


def _record(
    member: Member,
    context: Context,
    by_value: dict[int, str],
    by_colour: dict[int, int],
    claimed: frozenset[str],
) -> Record:
    path = after_folder(member.name, FOLDER) or member.name
    builder = framed_builder(context, name=path[: -len(".png")], claimed=claimed)
    values = _values(member.data, by_colour)
    builder.mask(values, by_value)
    return Record(member.name, builder.item.item_id, builder.gestures, builder.part)


def _values(data: bytes, by_colour: dict[int, int]) -> npt.NDArray[np.int64]:
    try:
        image: Any = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise Fault(f"the mask has more than {MAX_PIXELS:,} pixels")
        if image.format != "PNG":
            raise Fault(f"not a PNG but {image.format}")
        if image.mode in {"P", "L", "I;16", "I", "1"}:
            return np.asarray(image, dtype=np.int64)
        rgb = np.asarray(image.convert("RGB"), dtype=np.int64)
    except (OSError, Image.DecompressionBombError) as exc:
        raise Fault(f"the PNG cannot be read: {exc}") from None
    packed = (rgb[:, :, 0] << 16) | (rgb[:, :, 1] << 8) | rgb[:, :, 2]
    values = np.zeros(packed.shape, dtype=np.int64)
    for colour in np.unique(packed):
        if colour == 0:
            continue
        value = by_colour.get(int(colour))
        if value is None:
            raise Fault(f"colour #{int(colour):06x} is no tag's colour")
        values[packed == colour] = value
    return values
