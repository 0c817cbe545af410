"""The export formats: what each is called, which projects it fits, and its writer."""

from collections.abc import Callable
from dataclasses import dataclass

from server.export.base import Writer
from server.export.coco import CocoWriter
from server.export.conll import ConllWriter
from server.export.jsonl import JsonlWriter
from server.export.masks import PngMaskWriter
from server.export.table import CsvWriter
from server.export.voc import VocWriter
from server.export.yolo import YoloWriter

CLASSIFICATION = frozenset(
    {"image_multiclass", "image_multilabel", "text_multiclass", "text_multilabel"}
)
ALL_TYPES = CLASSIFICATION | {"bounding_boxes", "polygons", "semantic_segmentation", "ner"}
DETECTION = frozenset({"bounding_boxes", "polygons"})


@dataclass(frozen=True)
class Format:
    name: str
    title: str
    media_type: str
    extension: str
    project_types: frozenset[str]
    make: Callable[[], Writer]
    # Whether rows say when a label was submitted (the queue's stream is read for it).
    times: bool = False


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "csv",
            "CSV, a row per label (classification)",
            "text/csv; charset=utf-8",
            "csv",
            CLASSIFICATION,
            CsvWriter,
            times=True,
        ),
        Format(
            "jsonl",
            "JSON Lines, a line per label (every project type)",
            "application/x-ndjson",
            "jsonl",
            ALL_TYPES,
            JsonlWriter,
            times=True,
        ),
        Format(
            "coco",
            "COCO JSON (boxes, polygons; RLE masks for semantic segmentation)",
            "application/json",
            "json",
            DETECTION | {"semantic_segmentation"},
            CocoWriter,
        ),
        Format(
            "voc",
            "Pascal VOC XML, a zip of one file per image",
            "application/zip",
            "zip",
            DETECTION,
            VocWriter,
        ),
        Format(
            "yolo",
            "YOLO detect (normalized cx cy w h) with data.yaml, a zip",
            "application/zip",
            "zip",
            DETECTION,
            lambda: YoloWriter("detect"),
        ),
        Format(
            "yolo_seg",
            "YOLO segment (normalized polygons) with data.yaml, a zip",
            "application/zip",
            "zip",
            DETECTION,
            lambda: YoloWriter("segment"),
        ),
        Format(
            "png_masks",
            "PNG masks (palette = tag colours) with legend.json, a zip",
            "application/zip",
            "zip",
            frozenset({"semantic_segmentation", "polygons"}),
            PngMaskWriter,
        ),
        Format(
            "conll",
            "CoNLL-2003 style IOB2, a token per line (NER)",
            "text/plain; charset=utf-8",
            "conll",
            frozenset({"ner"}),
            ConllWriter,
        ),
    )
}


def formats_for(project_type: str) -> list[Format]:
    return [f for f in FORMATS.values() if project_type in f.project_types]
