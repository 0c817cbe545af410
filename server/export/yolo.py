"""YOLO (Ultralytics layout): a zip of data.yaml and one label file per labeled image.

    data.yaml                 path, train/val (images), nc, names {class index: tag}
    labels/<name>.txt         detect:  `class cx cy w h`        normalized to [0, 1]
                              segment: `class x1 y1 x2 y2 ...`  normalized polygon
    drafts/<labeler>/labels/<name>.txt   with include=drafts
    prelabels/labels/<name>.txt          with include=prelabels: the score as a last column
                                         (Ultralytics' `save_conf` layout)

Class indices are the tags' positions in the tag set (from 0). Values are divided by the
image's width or height and written with six decimals, as Ultralytics writes them. Detect
takes a polygon's bounding box; segment takes a box's four corners. An image labeled with no
regions gets an empty file (a background image). With overlap=all an image's file holds the
regions of every labeler (YOLO has no field to tell them apart: use overlap=majority for a
training set).
"""

from collections.abc import Iterator
from typing import Literal

import msgspec

from server.export.base import Writer
from server.export.geometry import box_of, polygon_of
from server.export.model import ExportItem, ExportProject, Label
from server.export.naming import member_path
from server.export.sink import Sink
from server.export.zipstream import ZipStream

Task = Literal["detect", "segment"]
FOLDER = "labels"


def data_yaml(project: ExportProject, task: Task) -> bytes:
    name = " ".join(project.name.split())
    lines = [
        f"# {name} — annolog project {project.project_id} as of seq {project.seq}",
        f"# YOLO {task}: put the images in images/, beside labels/",
        "path: .",
        "train: images",
        "val: images",
        f"nc: {len(project.tags)}",
        "names:",
    ]
    # A JSON string is a YAML double-quoted scalar: any tag name is safe written this way.
    lines += [
        f"  {index}: {msgspec.json.encode(tag.name).decode()}"
        for index, tag in enumerate(project.tags)
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def yolo_lines(item: ExportItem, labels: list[Label], classes: dict[str, int], task: Task) -> bytes:
    width, height = item.item.width, item.item.height
    lines: list[str] = []
    for label in labels:
        for region_id, region in label.draft.regions.items():
            cls = classes.get(region.tag) if region.tag is not None else None
            if cls is None:
                continue
            if task == "detect":
                x, y, w, h = box_of(region)
                values = [(x + w / 2) / width, (y + h / 2) / height, w / width, h / height]
            else:
                values = [v for px, py in polygon_of(region) for v in (px / width, py / height)]
            fields = [str(cls)] + [f"{v:.6f}" for v in values]
            score = label.scores.get(region_id)
            if score is not None:
                fields.append(f"{score:.6f}")
            lines.append(" ".join(fields))
    return "".join(f"{line}\n" for line in lines).encode("ascii")


class YoloWriter(Writer):
    def __init__(self, task: Task) -> None:
        self.task = task

    def open(self, project: ExportProject, out: Sink) -> None:
        self.zip = ZipStream(out, project.at)
        self.classes = {tag.name: index for index, tag in enumerate(project.tags)}
        self.zip.add("data.yaml", data_yaml(project, self.task))

    def add(self, item: ExportItem, out: Sink) -> None:
        if item.item.width <= 0 or item.item.height <= 0:
            return
        submitted = item.submitted
        if submitted:
            self._write(FOLDER, item, submitted)
        for label in item.labels:
            if label.status == "draft":
                self._write(f"drafts/{label.labelers[0]}/{FOLDER}", item, [label])
            elif label.status == "prelabel":
                self._write(f"prelabels/{FOLDER}", item, [label])

    def _write(self, folder: str, item: ExportItem, labels: list[Label]) -> None:
        data = yolo_lines(item, labels, self.classes, self.task)
        self.zip.add(member_path(self.zip, folder, item.item, item.member_suffix(".txt")), data)

    def close(self, out: Sink) -> Iterator[None]:
        yield from self.zip.close()

    def discard(self) -> None:
        self.zip.discard()
