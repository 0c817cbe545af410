"""Label imports: problems reported per record with where they are while the rest goes in,
files of other tools, labels replaced by a later import, and the history of each label."""

import io
import json
import zipfile
from typing import Any

import msgspec

from tests.export.conftest import Harness, png
from tests.export.scenarios import IMAGES, MULTI_FRAME, TEXTS, texts_file


def jsonl(*rows: Any) -> bytes:
    return b"".join(
        (row if isinstance(row, bytes) else msgspec.json.encode(row)) + b"\n" for row in rows
    )


def zipped(*members: tuple[str, str | bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


def boxes_project(harness: Harness, count: int = 3) -> tuple[str, list[dict[str, Any]]]:
    project = harness.project("bounding_boxes")
    files = [(f"img {n}.png", png(40, 30, 100 + n)) for n in range(count)]
    return project, harness.upload(project, files)


def test_problems_are_reported_by_line_and_the_rest_is_imported(harness: Harness) -> None:
    project, items = boxes_project(harness, 3)
    a, b, c = (i["item_id"] for i in items)
    good = {"tag": "cat", "x": 1, "y": 1, "w": 5, "h": 5}
    report = harness.import_labels(
        project,
        "jsonl",
        jsonl(
            {"item_id": a, "boxes": [good]},
            b"{not json",
            {"item_id": b, "boxes": [{**good, "tag": "unicorn"}]},
            {"file": "missing.png", "boxes": [good]},
            {"file": "img 1.png", "boxes": [{**good, "x": 38}]},
            {"item_id": a, "boxes": [good]},
            {"item_id": c, "status": "draft", "boxes": [good]},
            {"file": "img 2.png", "boxes": [{**good, "x": 35.5}]},
        ),
    )
    assert report["imported"] == 2
    problems = {p["where"]: p["message"] for p in report["errors"]}
    assert set(problems) == {"line 2", "line 3", "line 4", "line 5", "line 6"}
    assert "not JSON" in problems["line 2"]
    assert "'unicorn' is not in the project's tag set" in problems["line 3"]
    assert "no item of the project matches 'missing.png'" in problems["line 4"]
    assert "outside the image" in problems["line 5"]
    assert "already has a label at line 1" in problems["line 6"]
    assert report["skipped"] == [{"where": "line 7", "reason": "a draft is not a submitted label"}]
    rows = [json.loads(r) for r in harness.export(project, "jsonl").splitlines()]
    # x + w = 40.5 is half a pixel past the edge: clipped, as rounding in another tool.
    assert [(r["item_id"], r["boxes"][0]["x"], r["boxes"][0]["w"]) for r in rows] == [
        (a, 1.0, 5.0),
        (c, 35.5, 4.5),
    ]


def test_the_history_names_the_import_and_imported_items_leave_the_queue(
    harness: Harness,
) -> None:
    project, items = boxes_project(harness, 2)
    a = items[0]["item_id"]
    report = harness.import_labels(
        project,
        "jsonl",
        jsonl({"item_id": a, "boxes": [{"tag": "dog", "x": 2, "y": 2, "w": 3, "h": 3}]}),
    )
    history = harness.get(f"/api/projects/{project}/items/{a}/history").json()["events"]
    assert [(e["actor"], e["session"], e["event"]["type"]) for e in history] == [
        ("import", report["session"], "annotation.box_drawn")
    ]
    assert history[0]["event_id"].startswith("imp-")
    log = harness.get("/api/log", project=project, actor="import").json()["events"]
    kinds = [e["event"]["type"] for e in log if e["stream"] == f"queue-{project}"]
    assert kinds == [
        "queue.session_opened",
        "queue.page_assigned",
        "queue.page_submitted",
        "queue.session_closed",
    ]
    page = harness.post(f"/api/projects/{project}/page", "ann", json={})
    assert page["items"] == [items[1]["item_id"]]


def test_a_changed_file_replaces_the_imported_label(harness: Harness) -> None:
    project, items = boxes_project(harness, 1)
    a = items[0]["item_id"]

    def label(tag: str) -> bytes:
        return jsonl({"item_id": a, "boxes": [{"tag": tag, "x": 2, "y": 2, "w": 3, "h": 3}]})

    first = harness.import_labels(project, "jsonl", label("cat"))
    second = harness.import_labels(project, "jsonl", label("dog"))
    assert first["imported"] == second["imported"] == 1
    assert first["session"] != second["session"]
    (row,) = [json.loads(r) for r in harness.export(project, "jsonl").splitlines()]
    assert [b["tag"] for b in row["boxes"]] == ["dog"]
    history = harness.get(f"/api/projects/{project}/items/{a}/history").json()["events"]
    assert [e["event"]["type"] for e in history] == [
        "annotation.box_drawn",
        "annotation.draft_discarded",
        "annotation.box_drawn",
    ]
    # Back to the first file: a new label again, with new event ids.
    third = harness.import_labels(project, "jsonl", label("cat"))
    assert third["imported"] == 1
    assert harness.import_labels(project, "jsonl", label("cat"))["unchanged"] == 1


def test_coco_and_yolo_of_other_tools(harness: Harness) -> None:
    project, items = boxes_project(harness, 3)
    coco = {
        "images": [
            {"id": 7, "file_name": "some/folder/img 0.png", "width": 40, "height": 30},
            {"id": 8, "file_name": "img 1.png", "width": 40, "height": 30},
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "lion"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 1, "bbox": [1, 2, 3, 4]},
            {"id": 2, "image_id": 8, "category_id": 1, "bbox": [1, 2, 3, 4]},
            {"id": 3, "image_id": 8, "category_id": 2, "bbox": [5, 5, 3, 4]},
            {"id": 4, "image_id": 99, "category_id": 1, "bbox": [5, 5, 3, 4]},
        ],
    }
    report = harness.import_labels(project, "coco", json.dumps(coco).encode())
    assert report["imported"] == 1
    problems = {p["where"]: p["message"] for p in report["errors"]}
    assert problems["annotations[2] (id 3)"].startswith(
        "tag 'lion' is not in the project's tag set"
    )
    assert "image 'img 1.png' not imported" in problems["annotations[2] (id 3)"]
    assert "names no image" in problems["annotations[3]"]

    # No data.yaml: classes are the project's tags in order. A bad line refuses its file.
    yolo = zipped(
        ("labels/img 1.txt", "1 0.5 0.5 0.25 0.5\n0 0.1 0.1 0.2 0.2 0.3 0.3\n"),
        ("labels/img 2.txt", "0 0.5 0.5 0.25 0.5\n7 0.5 0.5 0.1 0.1\n"),
        ("README.md", "hello"),
    )
    report = harness.import_labels(project, "yolo", yolo)
    assert report["imported"] == 1
    assert report["errors"] == [
        {"where": "labels/img 2.txt", "message": "line 2: class 7 has no name (3 classes)"}
    ]
    rows = {r["item_id"]: r for r in map(json.loads, harness.export(project, "jsonl").splitlines())}
    assert rows[items[1]["item_id"]]["boxes"] == [
        {"tag": "dog", "x": 15.0, "y": 7.5, "w": 10.0, "h": 15.0},
        {"tag": "cat", "x": 4.0, "y": 3.0, "w": 8.0, "h": 6.0},
    ]
    assert (
        harness.import_labels(project, "yolo", b"not a zip", expect=422)["errors"][0]["where"]
        == "file"
    )


def test_text_labels_of_other_tools_find_items_by_text(harness: Harness) -> None:
    ner = harness.project("ner")
    harness.upload(ner, [texts_file()])
    t1 = TEXTS[0]["text"]
    doccano = jsonl(
        {"text": t1, "label": [[0, 3, "cat"], [t1.index("Zürich"), t1.index("Zürich") + 6, "dog"]]}
    )
    assert harness.import_labels(ner, "jsonl", doccano)["imported"] == 1
    # CoNLL without DOCSTART: sentences are matched by their tokens.
    conll = "Nothing O\nto O\nsee O\nhere B-cat\n. O\n\nnot O\na O\ntext O\n\nZoë B-PER\n"
    report = harness.import_labels(ner, "conll", conll.encode())
    assert report["imported"] == 1
    assert [p["where"] for p in report["errors"]] == ["line 7", "line 11"]
    assert report["errors"][0]["message"] == "no item's text has these tokens"
    spans = {
        r["item_id"]: [(s["label"], s["text"]) for s in r["spans"]]
        for r in map(json.loads, harness.export(ner, "jsonl").splitlines())
    }
    assert spans == {"t1": [("cat", "Zoë"), ("dog", "Zürich")], "t3": [("cat", "here")]}

    classes = harness.project("text_multilabel")
    harness.upload(classes, [texts_file()])
    table = "text,labels\n" + f'"{TEXTS[1]["text"].replace(chr(34), chr(34) * 2)}",cat;dog\n'
    table += '"multi\nline, unknown",cat\n'
    report = harness.import_labels(classes, "csv", table.encode())
    assert report["imported"] == 1
    assert report["errors"][0]["where"] == "line 3"


def test_refusals(harness: Harness) -> None:
    project, _ = boxes_project(harness, 1)
    response = harness.client.post(
        f"/api/projects/{project}/labels",
        headers=harness.headers("ann"),
        params={"format": "coco"},
        content=b"{}",
    )
    assert response.status_code == 403
    response = harness.client.post(
        f"/api/projects/{project}/labels",
        headers=harness.headers("admin"),
        params={"format": "conll"},
        content=b"x",
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "format"


def test_frames_of_a_multi_frame_item_make_one_label_and_bad_frames_are_named(
    harness: Harness,
) -> None:
    project = harness.project("bounding_boxes")
    flat, mr = (i["item_id"] for i in harness.upload(project, [IMAGES[3], MULTI_FRAME]))
    good = {"tag": "cat", "x": 1, "y": 1, "w": 5, "h": 5}
    report = harness.import_labels(
        project,
        "jsonl",
        jsonl(
            {"item_id": mr, "frame": 2, "boxes": [good]},
            {"item_id": mr, "frame": 10, "boxes": [good]},
            {"item_id": flat, "frame": 1, "boxes": [good]},
            {"file": "emri small.dcm#f7", "boxes": [{**good, "x": 9}]},
            {"item_id": mr, "frame": 2, "boxes": [good]},
            {"item_id": mr, "frame": "2", "boxes": [good]},
        ),
    )
    problems = {p["where"]: p["message"] for p in report["errors"]}
    assert problems == {
        "line 2": "frame 10 is not a frame of the item (0..9)",
        "line 3": "frame 1 is not a frame of the item (it has only frame 0)",
        "line 5": f"item {mr} already has a label on frame 2 at line 1; "
        "an import gives each item one label",
        "line 6": "frame must be a whole number, not '2'",
    }
    assert report["imported"] == report["records"] == 1
    state = harness.get(f"/api/projects/{project}/items/{mr}/state").json()
    regions = state["submitted"]["import"]["regions"].values()
    assert sorted((r["frame"], r["x"]) for r in regions) == [(2, 1), (7, 9)]
