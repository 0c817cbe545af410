"""COCO: images, categories and annotations in one JSON document, written as it goes.

Boxes and polygons projects give one annotation per region: `bbox` [x, y, w, h] and
`segmentation` (the polygon, or the box's four corners) in the original image's pixels,
`area` (the polygon's shoelace area, or w × h), `iscrowd` 0. Semantic segmentation projects
give one annotation per tag present in each label's mask, its `segmentation` the mask's
compressed RLE (pycocotools' `mask.encode`), `area` and `bbox` as pycocotools computes them;
iscrowd is 0 there too, as in COCO-Stuff. Category ids are the tags' positions plus one.

Beyond COCO's own keys (readers ignore them): images carry `annolog_item_id` and, for DICOM,
`sop_instance_uid` and `frame`; annotations carry `labelers` and `status`, and `score` on
prelabels. Untagged regions (possible in drafts) have no category and are left out.

The document is written in one pass: annotations stream to the output as each item comes,
while the (smaller) image entries wait in a spooled temporary file and follow at the end;
JSON does not care that "annotations" comes before "images".
"""

import tempfile
from collections.abc import Iterator
from typing import IO, Any

import msgspec

from server.export import rle
from server.export.base import Writer
from server.export.canvas import MaskCanvas
from server.export.geometry import area_of, box_of, polygon_of
from server.export.model import ExportItem, ExportProject, Label
from server.export.naming import iso_time
from server.export.sink import Sink

SPOOL_BYTES = 256 * 1024
PIECE = 64 * 1024
_json = msgspec.json.Encoder()


class CocoWriter(Writer):
    def open(self, project: ExportProject, out: Sink) -> None:
        self.project = project
        self.values = project.tag_values
        self.semantic = project.project_type == "semantic_segmentation"
        self.canvas = MaskCanvas(self.values, fortran=True)
        self.next_annotation = 1
        self.images: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by close() or discard()
            max_size=SPOOL_BYTES
        )
        self.image_count = 0
        options = project.options
        info = {
            "description": project.name,
            "version": "1.0",
            "year": int((iso_time(project.at) or "1970")[:4]),
            "contributor": "annolog",
            "url": "",
            "date_created": iso_time(project.at),
            "annolog": {
                "project": project.project_id,
                "project_type": project.project_type,
                "seq": project.seq,
                "overlap": options.overlap,
                "drafts": options.include_drafts,
                "prelabels": options.include_prelabels,
            },
        }
        categories = [
            {"id": index + 1, "name": tag.name, "supercategory": "", "color": tag.colour}
            for index, tag in enumerate(project.tags)
        ]
        out.write(b'{"info":')
        out.write(_json.encode(info))
        out.write(b',"licenses":[],"categories":')
        out.write(_json.encode(categories))
        out.write(b',"annotations":[')

    def add(self, item: ExportItem, out: Sink) -> None:
        image: dict[str, Any] = {
            "id": item.index,
            "file_name": item.file_name,
            "width": item.item.width,
            "height": item.item.height,
            "annolog_item_id": item.item.item_id,
        }
        if item.sop_instance_uid is not None:
            image["sop_instance_uid"] = item.sop_instance_uid
        if item.sop_instance_uid is not None or item.per_frame:
            image["frame"] = item.frame
        self.images.write(b"," if self.image_count else b"")
        self.images.write(_json.encode(image))
        self.image_count += 1
        for label in item.labels:
            extra: dict[str, Any] = {"labelers": list(label.labelers), "status": label.status}
            for annotation in (
                self._mask_annotations(item, label) if self.semantic else self._regions(label)
            ):
                annotation["id"] = self.next_annotation
                annotation["image_id"] = item.index
                annotation["iscrowd"] = 0
                annotation.update(extra)
                out.write(b"," if self.next_annotation > 1 else b"")
                out.write(_json.encode(annotation))
                self.next_annotation += 1

    def _regions(self, label: Label) -> Iterator[dict[str, Any]]:
        for region_id, region in label.draft.regions.items():
            category = self.values.get(region.tag) if region.tag is not None else None
            if category is None:
                continue
            polygon = [coordinate for point in polygon_of(region) for coordinate in point]
            annotation: dict[str, Any] = {
                "category_id": category,
                "bbox": list(box_of(region)),
                "area": area_of(region),
                "segmentation": [polygon],
            }
            score = label.scores.get(region_id)
            if score is not None:
                annotation["score"] = score
            yield annotation

    def _mask_annotations(self, item: ExportItem, label: Label) -> Iterator[dict[str, Any]]:
        mask = self.canvas.paint(item, label)
        for tag, encoded in rle.encode_mask(mask, self.project.tags):
            area, bbox = rle.stats(encoded)
            yield {
                "category_id": self.values[tag],
                "bbox": bbox,
                "area": area,
                "segmentation": encoded,
            }

    def close(self, out: Sink) -> Iterator[None]:
        out.write(b'],"images":[')
        self.images.seek(0)
        while piece := self.images.read(PIECE):
            out.write(piece)
            yield
        self.images.close()
        out.write(b"]}")
        yield

    def discard(self) -> None:
        self.images.close()
