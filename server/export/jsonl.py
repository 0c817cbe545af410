"""JSON Lines: one line per label of an item, for every project type (per label and frame for
a multi-frame item of a region project: `file` is then `<name>#f<frame>`, with `frame`).

{"item_id", "file", "kind", "width"?, "height"?, "text"?, "sop_instance_uid"?, "frame"?,
 "status": "submitted" | "draft" | "prelabel", "labelers": [...], "time", "seq",
 "tags"?      classification projects: the tags in the order applied
 "boxes"?     [{"tag", "x", "y", "w", "h", "score"?}]    pixels of the original image
 "polygons"?  [{"tag", "points": [[x, y], ...], "score"?}]
 "strokes"?   [{"tag" (null: eraser), "radius", "points"}]  semantic, in the order drawn
 "masks"?     [{"tag", "rle": {"size": [h, w], "counts"}}]  a semantic majority's mask
 "spans"?     [{"start", "end", "label", "text", "score"?}] NER; offsets in code points
 "confidence"? the assistant's, on prelabels}
"""

from typing import Any

import msgspec

from server.export import rle
from server.export.base import Writer
from server.export.model import ExportItem, ExportProject, Label
from server.export.naming import iso_time
from server.export.sink import Sink

CLASSIFICATION = frozenset(
    {"image_multiclass", "image_multilabel", "text_multiclass", "text_multilabel"}
)
REGIONS = frozenset({"bounding_boxes", "polygons", "semantic_segmentation"})
_json = msgspec.json.Encoder()


def item_fields(item: ExportItem) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "item_id": item.item.item_id,
        "file": item.file_name,
        "kind": item.item.kind,
    }
    if item.item.kind == "text":
        fields["text"] = item.item.text or ""
    else:
        fields["width"] = item.item.width
        fields["height"] = item.item.height
    if item.sop_instance_uid is not None:
        fields["sop_instance_uid"] = item.sop_instance_uid
    if item.sop_instance_uid is not None or item.per_frame:
        fields["frame"] = item.frame
    return fields


def label_fields(project: ExportProject, item: ExportItem, label: Label) -> dict[str, Any]:
    project_type = project.project_type
    draft = label.draft
    fields: dict[str, Any] = {
        "status": label.status,
        "labelers": list(label.labelers),
        "time": iso_time(label.at),
        "seq": label.seq,
    }
    if project_type in CLASSIFICATION:
        fields["tags"] = list(draft.tags)
    boxes: list[dict[str, Any]] = []
    polygons: list[dict[str, Any]] = []
    for region_id, region in draft.regions.items():
        score = label.scores.get(region_id)
        if region.kind == "box":
            box: dict[str, Any] = {
                "tag": region.tag,
                "x": region.x,
                "y": region.y,
                "w": region.w,
                "h": region.h,
            }
            if score is not None:
                box["score"] = score
            boxes.append(box)
        else:
            polygon: dict[str, Any] = {"tag": region.tag, "points": region.points}
            if score is not None:
                polygon["score"] = score
            polygons.append(polygon)
    if boxes or project_type == "bounding_boxes":
        fields["boxes"] = boxes
    if polygons or project_type in {"polygons", "semantic_segmentation"}:
        fields["polygons"] = polygons
    if project_type == "semantic_segmentation":
        fields["strokes"] = [
            {"tag": s.tag, "radius": s.radius, "points": s.points} for s in draft.strokes
        ]
        if label.mask is not None:
            fields["masks"] = [
                {"tag": tag, "rle": encoded}
                for tag, encoded in rle.encode_mask(label.mask, project.tags)
            ]
    if project_type == "ner" or draft.spans:
        text = item.item.text or ""
        spans = []
        for span_id, span in sorted(draft.spans.items(), key=lambda kv: (kv[1].start, kv[1].end)):
            entry: dict[str, Any] = {
                "start": span.start,
                "end": span.end,
                "label": span.tag,
                "text": text[span.start : span.end],
            }
            score = label.scores.get(span_id)
            if score is not None:
                entry["score"] = score
            spans.append(entry)
        fields["spans"] = spans
    if label.confidence is not None:
        fields["confidence"] = label.confidence
    return fields


class JsonlWriter(Writer):
    def open(self, project: ExportProject, out: Sink) -> None:
        self.project = project

    def add(self, item: ExportItem, out: Sink) -> None:
        if not item.labels:
            return
        head = item_fields(item)
        for label in item.labels:
            out.write(_json.encode({**head, **label_fields(self.project, item, label)}))
            out.write(b"\n")
