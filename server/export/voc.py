"""Pascal VOC: a zip of one XML file per labeled image.

    Annotations/<name>.xml                       the submitted labels' objects
    drafts/<labeler>/Annotations/<name>.xml      with include=drafts
    prelabels/Annotations/<name>.xml             with include=prelabels (objects have <score>)

Coordinates are the original image's continuous pixel coordinates, as COCO has them (a box
(x, y, w, h) is xmin = x, ymin = y, xmax = x + w, ymax = y + h), written exactly (whole
numbers without a point). A polygon's object has its bounding box in <bndbox> and its points
in an extra <polygon><pt><x/><y/></pt>...</polygon>, which VOC readers skip. Each object
names its <labeler>; with overlap=all an image's file holds the objects of every labeler.
The source names the item (<annolog_item_id>) and, for DICOM, <sop_instance_uid>, <frame>.
"""

import re
from collections.abc import Iterator
from xml.sax.saxutils import escape

from server.export.base import Writer
from server.export.geometry import box_of
from server.export.model import ExportItem, ExportProject, Label
from server.export.naming import member_path, number
from server.export.sink import Sink
from server.export.zipstream import ZipStream

FOLDER = "Annotations"
# Characters XML 1.0 cannot hold at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def text(value: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", value))


def voc_xml(item: ExportItem, labels: list[Label]) -> bytes:
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        "<annotation>",
        "  <folder>images</folder>",
        f"  <filename>{text(item.file_name)}</filename>",
        "  <source>",
        "    <database>annolog</database>",
        f"    <annolog_item_id>{text(item.item.item_id)}</annolog_item_id>",
    ]
    if item.sop_instance_uid is not None:
        lines.append(f"    <sop_instance_uid>{text(item.sop_instance_uid)}</sop_instance_uid>")
    if item.sop_instance_uid is not None or item.per_frame:
        lines.append(f"    <frame>{item.frame}</frame>")
    lines += [
        "  </source>",
        "  <size>",
        f"    <width>{item.item.width}</width>",
        f"    <height>{item.item.height}</height>",
        f"    <depth>{1 if item.item.kind == 'dicom' else 3}</depth>",
        "  </size>",
        "  <segmented>0</segmented>",
    ]
    for label in labels:
        for region_id, region in label.draft.regions.items():
            if region.tag is None:
                continue
            x, y, w, h = box_of(region)
            lines += [
                "  <object>",
                f"    <name>{text(region.tag)}</name>",
                "    <pose>Unspecified</pose>",
                "    <truncated>0</truncated>",
                "    <difficult>0</difficult>",
                "    <bndbox>",
                f"      <xmin>{number(x)}</xmin>",
                f"      <ymin>{number(y)}</ymin>",
                f"      <xmax>{number(x + w)}</xmax>",
                f"      <ymax>{number(y + h)}</ymax>",
                "    </bndbox>",
            ]
            if region.kind == "polygon":
                lines.append("    <polygon>")
                lines += [
                    f"      <pt><x>{number(px)}</x><y>{number(py)}</y></pt>"
                    for px, py in region.points
                ]
                lines.append("    </polygon>")
            lines.append(f"    <labeler>{text(','.join(label.labelers))}</labeler>")
            score = label.scores.get(region_id)
            if score is not None:
                lines.append(f"    <score>{score!r}</score>")
            lines.append("  </object>")
    lines.append("</annotation>\n")
    return "\n".join(lines).encode("utf-8")


class VocWriter(Writer):
    def open(self, project: ExportProject, out: Sink) -> None:
        self.zip = ZipStream(out, project.at)

    def add(self, item: ExportItem, out: Sink) -> None:
        submitted = item.submitted
        if submitted:
            self._write(FOLDER, item, submitted)
        for label in item.labels:
            if label.status == "draft":
                self._write(f"drafts/{label.labelers[0]}/{FOLDER}", item, [label])
            elif label.status == "prelabel":
                self._write(f"prelabels/{FOLDER}", item, [label])

    def _write(self, folder: str, item: ExportItem, labels: list[Label]) -> None:
        self.zip.add(
            member_path(self.zip, folder, item.item, item.member_suffix(".xml")),
            voc_xml(item, labels),
        )

    def close(self, out: Sink) -> Iterator[None]:
        yield from self.zip.close()

    def discard(self) -> None:
        self.zip.discard()
