"""A labeled project of each type, made through the API: media with odd names and Unicode
text, and labels of every kind of gesture, ready to export."""

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

import msgspec

from server.demo.data import dicom_files
from tests.export.conftest import Harness, png

IMAGES = [
    ("Zoë café (1).png", png(40, 30, 1)),
    ("日本 語.png", png(50, 20, 2)),
    ('a,b;c\'d "q".png', png(30, 30, 3)),
    ("plain.png", png(20, 20, 4)),
    # Two items of the same name: exports must keep their label files apart.
    ("same.png", png(32, 24, 5)),
    ("same.png", png(32, 24, 6)),
]
TEXTS = [
    {"id": "t1", "text": "Zoë met 李雷 in Zürich."},
    {"id": "t2", "text": 'e\u0301tude de Marie-Claire 🎉 à Paris, "quoted", a,b;c'},
    {"id": "t3", "text": "Nothing to see here."},
    {"id": "t4", "text": "نص عربي مع Zoë\nand a second line"},
]


def _zip(*members: tuple[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


# Archive members keep their folders in their names: two `Zoë.png` in different folders.
ARCHIVE = (
    "photos.zip",
    _zip(("photos/2024/Zoë.png", png(36, 28, 7)), ("photos/2025/Zoë.png", png(36, 28, 8))),
)


def texts_file() -> tuple[str, bytes]:
    return ("texts.jsonl", b"".join(msgspec.json.encode(t) + b"\n" for t in TEXTS))


def tag(name: str) -> dict[str, Any]:
    return {"type": "annotation.tag_applied", "tag": name}


def box(rid: str, name: str, x: float, y: float, w: float, h: float) -> dict[str, Any]:
    return {
        "type": "annotation.box_drawn",
        "region_id": rid,
        "tag": name,
        "x": x,
        "y": y,
        "w": w,
        "h": h,
    }


def polygon(rid: str, name: str, points: list[tuple[float, float]]) -> dict[str, Any]:
    return {"type": "annotation.polygon_drawn", "region_id": rid, "tag": name, "points": points}


def paint(sid: str, name: str, radius: float, points: list[tuple[float, float]]) -> dict[str, Any]:
    return {
        "type": "annotation.brush_painted",
        "stroke_id": sid,
        "tag": name,
        "radius": radius,
        "points": points,
    }


def erase(sid: str, radius: float, points: list[tuple[float, float]]) -> dict[str, Any]:
    return {"type": "annotation.brush_erased", "stroke_id": sid, "radius": radius, "points": points}


def span(sid: str, name: str, text: str, words: str) -> dict[str, Any]:
    start = text.index(words)
    return {
        "type": "annotation.span_tagged",
        "span_id": sid,
        "tag": name,
        "start": start,
        "end": start + len(words),
    }


def on_frame(frame: int, event: dict[str, Any]) -> dict[str, Any]:
    """A drawing gesture on `frame` of a multi-frame item."""
    return {**event, "frame": frame}


BIRD = "Zoë's bird"
T1, T2, T4 = TEXTS[0]["text"], TEXTS[1]["text"], TEXTS[3]["text"]
# A 10-frame MR (64 × 64), whose labels are exported one frame at a time.
MULTI_FRAME = ("emri small.dcm", dict(dicom_files())["emri_small.dcm"])


@dataclass
class Scenario:
    project_type: str
    files: list[tuple[str, bytes]]
    # Item position (in import order) or text id → the gestures of its label.
    labels: dict[int | str, list[dict[str, Any]]]
    formats: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)


SCENARIOS: dict[str, Scenario] = {
    "image_multiclass": Scenario(
        "image_multiclass",
        IMAGES[:4],
        {0: [tag("cat")], 1: [tag(BIRD)], 2: [tag("dog"), tag("cat")]},
        ("csv", "jsonl"),
    ),
    "image_multilabel": Scenario(
        "image_multilabel",
        IMAGES[:4],
        {0: [tag("cat"), tag("dog")], 1: [tag(BIRD)]},
        ("csv", "jsonl"),
    ),
    "text_multiclass": Scenario(
        "text_multiclass",
        [texts_file()],
        {"t1": [tag("cat")], "t2": [tag(BIRD)], "t4": [tag("dog")]},
        ("csv", "jsonl"),
    ),
    "text_multilabel": Scenario(
        "text_multilabel",
        [texts_file()],
        {"t1": [tag("cat"), tag(BIRD)], "t2": [tag("dog")]},
        ("csv", "jsonl"),
    ),
    "bounding_boxes": Scenario(
        "bounding_boxes",
        [*IMAGES, ARCHIVE],
        {
            0: [box("r1", "cat", 1.5, 2.25, 10, 8), box("r2", BIRD, 20, 10, 19, 19.5)],
            1: [box("r1", "dog", 0, 0, 50, 20)],
            2: [box("r1", "cat", 3, 4, 5, 6), box("r2", "cat", 10, 10, 8, 8)],
            4: [box("r1", "dog", 1, 1, 10, 10)],
            5: [box("r1", "cat", 2, 2, 10.5, 10)],
            6: [box("r1", BIRD, 4, 4, 4, 4)],
            7: [box("r1", "dog", 5, 5, 6, 6)],
        },
        ("coco", "voc", "yolo", "yolo_seg", "jsonl"),
    ),
    "polygons": Scenario(
        "polygons",
        [*IMAGES, ARCHIVE],
        {
            0: [
                polygon("r1", "cat", [(1, 1), (20.5, 1), (10, 25.25)]),
                polygon("r2", "dog", [(30, 5), (39, 5), (39, 29), (30, 29), (35, 15)]),
            ],
            1: [polygon("r1", BIRD, [(0, 0), (50, 0), (50, 20), (0, 20)])],
            4: [polygon("r1", "dog", [(1, 1), (12, 1), (6, 9)])],
            5: [polygon("r1", "cat", [(2, 2), (20, 3), (11, 20)])],
        },
        ("coco", "voc", "yolo_seg", "jsonl"),
    ),
    "semantic_segmentation": Scenario(
        "semantic_segmentation",
        IMAGES[:3],
        {
            0: [
                paint("s1", "cat", 3, [(5, 5), (20, 10)]),
                paint("s2", "dog", 2, [(30, 20)]),
                erase("s3", 1.5, [(10, 7)]),
                polygon("p1", BIRD, [(25, 2), (38, 2), (38, 12)]),
            ],
            1: [paint("s1", "dog", 4, [(10, 10), (40, 10)])],
            2: [polygon("p1", "cat", [(0, 0), (30, 0), (0, 30)])],
        },
        ("coco", "png_masks", "jsonl"),
    ),
    "multi_frame_boxes": Scenario(
        "bounding_boxes",
        [IMAGES[0], MULTI_FRAME],
        {
            0: [box("r1", "cat", 1.5, 2.25, 10, 8)],
            1: [
                box("r1", "dog", 2, 3, 10, 12),
                on_frame(6, box("r2", "cat", 20, 20, 8.5, 8)),
                on_frame(6, box("r3", BIRD, 1, 1, 5, 5)),
                on_frame(9, box("r4", "dog", 30, 30, 10, 10)),
            ],
        },
        ("coco", "voc", "yolo", "yolo_seg", "jsonl"),
    ),
    "multi_frame_polygons": Scenario(
        "polygons",
        [IMAGES[0], MULTI_FRAME],
        {
            0: [polygon("r1", "cat", [(1, 1), (20.5, 1), (10, 25.25)])],
            1: [
                on_frame(3, polygon("r1", BIRD, [(0, 0), (50, 0), (50, 20), (0, 20)])),
                on_frame(8, polygon("r2", "dog", [(30, 5), (39, 5), (39, 29), (35, 15)])),
            ],
        },
        ("coco", "voc", "yolo_seg", "jsonl"),
    ),
    "multi_frame_segmentation": Scenario(
        "semantic_segmentation",
        [IMAGES[0], MULTI_FRAME],
        {
            0: [paint("s1", "dog", 4, [(10, 10), (30, 10)])],
            1: [
                paint("s1", "cat", 3, [(5, 5), (20, 10)]),
                on_frame(4, paint("s2", "dog", 2, [(30, 20)])),
                on_frame(4, erase("s3", 1.5, [(31, 20)])),
                on_frame(4, polygon("p1", BIRD, [(25, 2), (38, 2), (38, 12)])),
                on_frame(9, paint("s4", BIRD, 5, [(40, 40), (50, 60)])),
            ],
        },
        ("coco", "png_masks", "jsonl"),
    ),
    "ner": Scenario(
        "ner",
        [texts_file()],
        {
            "t1": [
                span("a", "cat", T1, "Zoë"),
                span("b", "dog", T1, "李雷"),
                span("c", BIRD, T1, "Zürich"),
            ],
            "t2": [span("a", "cat", T2, "Marie-Claire"), span("b", "dog", T2, "Paris")],
            "t4": [],
        },
        ("conll", "jsonl"),
    ),
}


def item_ids(harness: Harness, project: str, scenario: Scenario) -> dict[int | str, str]:
    """Each label key's item id in this project."""
    items = harness.upload(project, scenario.files)
    ids: dict[int | str, str] = {i: item["item_id"] for i, item in enumerate(items)}
    ids.update({item["item_id"]: item["item_id"] for item in items})
    return ids


def build(
    harness: Harness, scenario: Scenario, overlap: int = 1
) -> tuple[str, dict[int | str, str]]:
    """A project of the scenario's type with its media and, by `ann`, its labels."""
    project = harness.project(scenario.project_type, overlap=overlap)
    ids = item_ids(harness, project, scenario)
    harness.label(project, "ann", {ids[key]: events for key, events in scenario.labels.items()})
    return project, ids
