"""JSON Lines labels: annolog's own export, and the common shapes of other tools.

A line names its item by `item_id`, `file` (or `file_name`, `image`) or, for text, `text`.
Labels, by project type:

    classification  "tags": [...] (or "label": "x" | [...], as doccano writes it)
    boxes/polygons  "boxes": [{"tag", "x", "y", "w", "h"}], "polygons": [{"tag", "points"}]
    semantic        the above, "strokes": [{"tag" | null, "radius", "points"}] and
                    "masks": [{"tag", "rle": {"size", "counts"}}]
    NER             "spans": [{"start", "end", "label" | "tag"}] (Prodigy, spaCy), or
                    "label" / "entities": [[start, end, tag], ...] (doccano)

Lines whose "status" is "draft" or "prelabel" are skipped: only submitted labels import.
"""

from collections.abc import Iterator
from typing import Any

import msgspec
import numpy as np

from server.export import rle
from server.labels_import.context import CLASSIFICATION, Builder, Context
from server.labels_import.frames import framed_builder
from server.labels_import.records import Fault, Parsed, Problem, Record, Skipped


def parse(data: bytes, context: Context) -> Iterator[Parsed]:
    data = data.removeprefix(b"\xef\xbb\xbf")
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            row = msgspec.json.decode(line)
            if not isinstance(row, dict):
                raise Fault("a line must be a JSON object")
            status = row.get("status", "submitted")
            if status != "submitted":
                yield Skipped(where, f"a {status} is not a submitted label")
                continue
            yield labels_of(row, context, where)
        except msgspec.DecodeError as exc:
            yield Problem(where, f"not JSON: {exc}")
        except Fault as exc:
            yield Problem(where, exc.message)


def _list(row: dict[str, Any], key: str) -> list[Any]:
    value = row.get(key) or []
    if not isinstance(value, list):
        raise Fault(f"{key} must be a list")
    return value


def labels_of(row: dict[str, Any], context: Context, where: str) -> Record:
    name = row.get("file") or row.get("file_name") or row.get("image")
    text = row.get("text")
    builder = framed_builder(
        context,
        item_id=_str(row.get("item_id") or row.get("id")),
        name=_str(name),
        text=text if isinstance(text, str) else None,
        frame=row.get("frame"),
    )
    item = builder.item
    project_type = context.project_type
    if project_type in CLASSIFICATION:
        tags = row.get("tags", row.get("label", row.get("labels")))
        for tag in [tags] if isinstance(tags, str) else tags or []:
            builder.tag(tag)
    elif project_type == "ner":
        _spans(row, builder)
    else:
        for box in _list(row, "boxes"):
            if not isinstance(box, dict):
                raise Fault("a box must be an object")
            builder.box(box.get("tag"), box.get("x"), box.get("y"), box.get("w"), box.get("h"))
        for polygon in _list(row, "polygons"):
            if not isinstance(polygon, dict):
                raise Fault("a polygon must be an object")
            builder.polygon(polygon.get("tag"), polygon.get("points") or [])
        for stroke in _list(row, "strokes"):
            if not isinstance(stroke, dict):
                raise Fault("a stroke must be an object")
            builder.stroke(stroke.get("tag"), stroke.get("radius"), stroke.get("points") or [])
        _masks(_list(row, "masks"), builder, context)
    return Record(where, item.item_id, builder.gestures, builder.part)


def _str(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _spans(row: dict[str, Any], builder: Builder) -> None:
    for span in _list(row, "spans"):
        if not isinstance(span, dict):
            raise Fault("a span must be an object with start, end and label")
        builder.span(span.get("label", span.get("tag")), span.get("start"), span.get("end"))
    for key in ("entities", "label"):
        for entry in _list(row, key):
            if not isinstance(entry, list) or len(entry) != 3:
                raise Fault(f"{key} entries must be [start, end, tag]")
            builder.span(entry[2], entry[0], entry[1])


def _masks(masks: list[Any], builder: Builder, context: Context) -> None:
    if not masks:
        return
    values = {tag.name: index + 1 for index, tag in enumerate(context.tags)}
    item = builder.item
    composed = np.zeros((item.height, item.width), dtype=np.uint16)
    for entry in masks:
        if not isinstance(entry, dict) or not isinstance(entry.get("rle"), dict):
            raise Fault('a mask must be {"tag", "rle": {"size", "counts"}}')
        tag = context.tag(entry.get("tag"))
        try:
            binary = rle.decode(entry["rle"])
        except Exception as exc:
            raise Fault(f"the RLE of tag {tag!r} cannot be decoded: {exc}") from None
        if binary.shape != composed.shape:
            raise Fault(
                f"a {binary.shape[1]}x{binary.shape[0]} mask on a {item.width}x{item.height} image"
            )
        composed[binary] = values[tag]
    builder.mask(composed, {value: tag for tag, value in values.items()})
