"""COCO labels: an image's annotations become one label of the item the image names.

The image is found by `annolog_item_id` (annolog's exports) or `file_name`. Categories map to
tags by name. Boxes projects take `bbox`; polygons projects take each polygon of
`segmentation` (or the `bbox` when there is none); semantic projects take polygons, and RLE
segmentations as masks (later annotations over earlier ones). Annotations whose `status` is
not `submitted` are skipped. One bad annotation refuses its whole image (a label with a
region missing is a wrong label), and is reported as `annotations[index]`.
"""

from collections.abc import Iterator
from typing import Any

import msgspec
import numpy as np

from server.export import rle
from server.labels_import.context import Builder, Context
from server.labels_import.frames import framed_builder
from server.labels_import.records import Fault, Parsed, Problem, Record, Skipped


def parse(data: bytes, context: Context) -> Iterator[Parsed]:
    try:
        document = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        yield Problem("file", f"not JSON: {exc}")
        return
    if not isinstance(document, dict):
        yield Problem("file", "a COCO file is a JSON object with images and annotations")
        return
    categories: dict[Any, Any] = {}
    for index, category in enumerate(document.get("categories") or []):
        if isinstance(category, dict) and "id" in category:
            categories[category["id"]] = category.get("name")
        else:
            yield Problem(f"categories[{index}]", "a category needs an id and a name")
    images: dict[Any, dict[str, Any]] = {}
    for index, image in enumerate(document.get("images") or []):
        if isinstance(image, dict) and "id" in image:
            images[image["id"]] = image
        else:
            yield Problem(f"images[{index}]", "an image needs an id")
    by_image: dict[Any, list[tuple[int, dict[str, Any]]]] = {}
    for index, annotation in enumerate(document.get("annotations") or []):
        where = f"annotations[{index}]"
        if not isinstance(annotation, dict) or annotation.get("image_id") not in images:
            yield Problem(where, "the annotation names no image of the file (image_id)")
            continue
        status = annotation.get("status", "submitted")
        if status != "submitted":
            yield Skipped(where, f"a {status} is not a submitted label")
            continue
        by_image.setdefault(annotation["image_id"], []).append((index, annotation))
    for image_id, annotations in by_image.items():
        image = images[image_id]
        where = f"image {image_id} ({image.get('file_name', '')})"
        try:
            builder = framed_builder(
                context,
                item_id=image.get("annolog_item_id"),
                name=image.get("file_name"),
                frame=image.get("frame"),
            )
        except Fault as exc:
            yield Problem(where, exc.message)
            continue
        item = builder.item
        masks: list[tuple[str, Any]] = []
        failed = False
        for index, annotation in annotations:
            try:
                tag = context.tag(categories.get(annotation.get("category_id")))
                segmentation = annotation.get("segmentation")
                if isinstance(segmentation, dict):
                    if context.project_type == "bounding_boxes":
                        _box(builder, tag, annotation)
                    else:
                        masks.append((tag, segmentation))
                elif context.project_type != "bounding_boxes" and segmentation:
                    if not isinstance(segmentation, list):
                        raise Fault("segmentation must be a list of polygons or an RLE")
                    for polygon in segmentation:
                        if not isinstance(polygon, list) or len(polygon) % 2:
                            raise Fault("a polygon is a flat list [x1, y1, x2, y2, ...]")
                        points = list(zip(polygon[0::2], polygon[1::2], strict=True))
                        builder.polygon(tag, points)
                else:
                    _box(builder, tag, annotation)
            except Fault as exc:
                failed = True
                yield Problem(
                    f"annotations[{index}] (id {annotation.get('id')})",
                    f"{exc.message}; image {image.get('file_name', image_id)!r} not imported",
                )
        if failed:
            continue
        try:
            if masks:
                _compose(builder, context, masks)
        except Fault as exc:
            yield Problem(where, exc.message)
            continue
        yield Record(where, item.item_id, builder.gestures, builder.part)


def _box(builder: Builder, tag: str, annotation: dict[str, Any]) -> None:
    bbox = annotation.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4:
        raise Fault("bbox must be [x, y, w, h]")
    builder.box(tag, *bbox)


def _compose(builder: Builder, context: Context, masks: list[tuple[str, Any]]) -> None:
    values = {tag.name: index + 1 for index, tag in enumerate(context.tags)}
    item = builder.item
    composed = np.zeros((item.height, item.width), dtype=np.uint16)
    for tag, segmentation in masks:
        try:
            binary = rle.decode(segmentation)
        except Exception as exc:
            raise Fault(f"an RLE of tag {tag!r} cannot be decoded: {exc}") from None
        if binary.shape != composed.shape:
            raise Fault(
                f"an RLE of {binary.shape[1]}x{binary.shape[0]} on a "
                f"{item.width}x{item.height} image"
            )
        composed[binary] = values[tag]
    builder.mask(composed, {value: tag for tag, value in values.items()})
