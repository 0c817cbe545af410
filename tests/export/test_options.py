"""Export options through the API: submitted only by default, drafts and prelabels on
request (marked as such), overlap all or majority, as of a seq or a time, DICOM references,
and the refusals."""

import datetime
import io
import json
import math
import uuid
import zipfile
from typing import Any

from events.assist import PrelabelProposed, ProposedBox
from events.envelope import NewEvent
from events.streams import item_stream
from tests.export.conftest import Harness, png
from tests.export.scenarios import IMAGES, MULTI_FRAME, box, on_frame, tag
from tests.server.media.files import ct_small


def lines(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.decode().splitlines()]


def propose(harness: Harness, project: str, item: str) -> None:
    """The assistant's proposal for an item, appended as the worker appends it."""
    store = harness.services.store
    stream = item_stream(project, item)
    version = harness.call(store.stream_version, stream)
    proposal = PrelabelProposed(
        round=1,
        model_hash="ab" * 32,
        confidence=0.875,
        boxes=[ProposedBox(tag="dog", x=2, y=3, w=4, h=5, score=0.75)],
    )
    recorded = harness.call(
        store.append,
        stream,
        [NewEvent(event_id=uuid.uuid4().hex, event=proposal, actor="assistant", session="w")],
        version,
    )
    harness.call(harness.services.live.wait_for, recorded[-1].seq)


def three_labelers(harness: Harness) -> tuple[str, list[str]]:
    """Boxes, overlap 3: ann, bob and cid label item 0; ann item 1; bob drafts item 1."""
    project = harness.project("bounding_boxes", overlap=3)
    items = [
        i["item_id"]
        for i in harness.upload(project, [(f"{n}.png", png(40, 30, n)) for n in range(3)])
    ]
    harness.label(
        project,
        "ann",
        {items[0]: [box("a", "cat", 10, 10, 10, 10)], items[1]: [box("a", "dog", 1, 1, 5, 5)]},
    )
    harness.label(
        project,
        "bob",
        {items[0]: [box("b", "cat", 11, 10, 10, 10), box("b2", "dog", 30, 20, 5, 5)]},
    )
    harness.label(project, "cid", {items[0]: [box("c", "dog", 0, 0, 5, 5)]})
    harness.label(project, "bob", {items[1]: [box("x", "cat", 20, 20, 3, 3)]}, submit=False)
    propose(harness, project, items[2])
    return project, items


def test_submitted_only_by_default_then_drafts_and_prelabels_marked(harness: Harness) -> None:
    project, items = three_labelers(harness)
    default = lines(harness.export(project, "jsonl"))
    assert [(r["item_id"], r["labelers"], r["status"]) for r in default] == [
        (items[0], ["ann"], "submitted"),
        (items[0], ["bob"], "submitted"),
        (items[0], ["cid"], "submitted"),
        (items[1], ["ann"], "submitted"),
    ]
    assert all(r["time"].endswith("Z") and r["seq"] > 0 for r in default)

    extra = lines(harness.export(project, "jsonl", include="drafts,prelabels"))
    draft = [r for r in extra if r["status"] == "draft"]
    assert [(r["item_id"], r["labelers"], r["boxes"]) for r in draft] == [
        (items[1], ["bob"], [{"tag": "cat", "x": 20.0, "y": 20.0, "w": 3.0, "h": 3.0}])
    ]
    assert draft[0]["time"] is None
    (prelabel,) = [r for r in extra if r["status"] == "prelabel"]
    assert prelabel["item_id"] == items[2]
    assert prelabel["labelers"] == ["assistant"]
    assert prelabel["confidence"] == 0.875
    assert prelabel["boxes"] == [
        {"tag": "dog", "x": 2.0, "y": 3.0, "w": 4.0, "h": 5.0, "score": 0.75}
    ]

    coco = json.loads(harness.export(project, "coco", include="prelabels"))
    (marked,) = [a for a in coco["annotations"] if a["status"] == "prelabel"]
    assert marked["score"] == 0.75
    assert marked["labelers"] == ["assistant"]

    archive = zipfile.ZipFile(
        io.BytesIO(harness.export(project, "yolo", include="drafts,prelabels"))
    )
    names = archive.namelist()
    assert "prelabels/labels/2.txt" in names
    assert "drafts/bob/labels/1.txt" in names
    assert archive.read("prelabels/labels/2.txt").decode().split() == [
        "1",
        "0.100000",
        "0.183333",
        "0.100000",
        "0.166667",
        "0.750000",
    ]
    assert "labels/2.txt" not in names  # item 2 has no submitted label


def test_majority_of_three_labelers(harness: Harness) -> None:
    project, items = three_labelers(harness)
    merged = lines(harness.export(project, "jsonl", overlap="majority"))
    assert [(r["item_id"], r["labelers"]) for r in merged] == [
        (items[0], ["ann", "bob", "cid"]),
        (items[1], ["ann"]),
    ]
    # Two cats overlap (IoU 0.82) and win; the dogs were each drawn by one labeler only.
    assert merged[0]["boxes"] == [{"tag": "cat", "x": 10.0, "y": 10.0, "w": 10.0, "h": 10.0}]

    classes = harness.project("image_multiclass", overlap=3)
    ids = [
        i["item_id"]
        for i in harness.upload(classes, [(f"c{n}.png", png(8, 8, 50 + n)) for n in range(2)])
    ]
    harness.label(classes, "ann", {ids[0]: [tag("cat")], ids[1]: [tag("cat")]})
    harness.label(classes, "bob", {ids[0]: [tag("cat")], ids[1]: [tag("dog")]})
    harness.label(classes, "cid", {ids[0]: [tag("dog")], ids[1]: [tag("Zoë's bird")]})
    table = harness.export(classes, "csv", overlap="majority").decode().splitlines()
    assert table[0] == "item_id,file,tag,labelers,status,time"
    assert len(table) == 2  # item 1 has no majority
    assert table[1].startswith(f"{ids[0]},c0.png,cat,ann;bob;cid,submitted,")


def test_as_of_a_seq_or_a_time_replays_the_log(harness: Harness) -> None:
    project = harness.project("bounding_boxes")
    items = [
        i["item_id"]
        for i in harness.upload(project, [(f"t{n}.png", png(20, 20, 70 + n)) for n in range(2)])
    ]
    harness.label(project, "ann", {items[0]: [box("a", "cat", 1, 1, 5, 5)]})
    first_seq = harness.log_length()
    before = harness.export(project, "jsonl")
    harness.label(project, "ann", {items[1]: [box("a", "dog", 2, 2, 5, 5)]})
    now = harness.export(project, "jsonl")
    assert len(lines(now)) == 2

    # The log moved on (this and other projects); as_of the first seq is what it was then.
    replayed = harness.export(project, "jsonl", as_of=str(first_seq))
    assert replayed == before
    entry = harness.get("/api/log", after=first_seq - 1, limit=1).json()["events"][0]
    # ISO-8601 holds microseconds: round up, so that the moment is not before the event.
    micros = math.ceil(entry["at"] * 1e6) / 1e6
    moment = datetime.datetime.fromtimestamp(micros, datetime.UTC).isoformat()
    assert harness.export(project, "jsonl", as_of=moment) == before
    assert harness.export(project, "jsonl", as_of=repr(entry["at"] + 1e-6)) == before
    coco = json.loads(harness.export(project, "coco", as_of=str(first_seq)))
    assert coco["info"]["annolog"]["seq"] == first_seq
    response = harness.client.get(
        f"/api/projects/{project}/export",
        headers=harness.headers("admin"),
        params={"format": "voc", "as_of": str(first_seq)},
    )
    assert response.headers["x-annolog-seq"] == str(first_seq)
    assert f'filename="{project}-voc-seq{first_seq}.zip"' in response.headers["content-disposition"]
    # The replay of the last seq is the live model's export, byte for byte.
    last = harness.log_length()
    live = harness.export(project, "coco")
    other = harness.project("image_multiclass")  # moves the log past `last`
    assert other
    assert harness.export(project, "coco", as_of=str(last)) == live


def test_dicom_items_carry_their_sop_instance_uid_and_frame(harness: Harness) -> None:
    project = harness.project("bounding_boxes")
    (item,) = harness.upload(project, [("CT small.dcm", ct_small())])
    harness.label(project, "ann", {item["item_id"]: [box("a", "cat", 10, 20, 30, 40)]})
    uid = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
    (image,) = json.loads(harness.export(project, "coco"))["images"]
    assert (image["sop_instance_uid"], image["frame"], image["width"]) == (uid, 0, 128)
    (row,) = lines(harness.export(project, "jsonl"))
    assert (row["sop_instance_uid"], row["frame"]) == (uid, 0)
    voc = zipfile.ZipFile(io.BytesIO(harness.export(project, "voc")))
    xml = voc.read("Annotations/CT small.xml").decode()
    assert f"<sop_instance_uid>{uid}</sop_instance_uid>" in xml
    assert "<frame>0</frame>" in xml


def test_a_multi_frame_item_is_exported_frame_by_frame(harness: Harness) -> None:
    project = harness.project("bounding_boxes", overlap=2)
    flat, mr = (i["item_id"] for i in harness.upload(project, [IMAGES[3], MULTI_FRAME]))
    frame_0 = box("r1", "dog", 2, 3, 10, 12)
    harness.label(
        project,
        "ann",
        {
            flat: [box("r1", "cat", 1, 1, 5, 5)],
            mr: [frame_0, on_frame(6, box("r2", "cat", 20, 20, 8, 8))],
        },
    )
    coco = json.loads(harness.export(project, "coco"))
    images = {(i["annolog_item_id"], i.get("frame")): i for i in coco["images"]}
    assert list(images) == [(flat, None), (mr, 0), (mr, 6)]
    assert [i["id"] for i in coco["images"]] == [1, 2, 3]
    assert images[mr, 6]["file_name"] == "emri small.dcm#f6"
    assert images[mr, 6]["sop_instance_uid"] == images[mr, 0]["sop_instance_uid"]
    assert images[flat, None]["file_name"] == "plain.png"
    boxes = [(a["image_id"], a["bbox"]) for a in coco["annotations"]]
    assert boxes == [(1, [1, 1, 5, 5]), (2, [2, 3, 10, 12]), (3, [20, 20, 8, 8])]

    rows = [
        (r["file"], r.get("frame"), r["boxes"]) for r in lines(harness.export(project, "jsonl"))
    ]
    assert [(file, frame, [b["x"] for b in found]) for file, frame, found in rows] == [
        ("plain.png", None, [1]),
        ("emri small.dcm#f0", 0, [2]),
        ("emri small.dcm#f6", 6, [20]),
    ]
    voc = zipfile.ZipFile(io.BytesIO(harness.export(project, "voc")))
    assert sorted(voc.namelist()) == [
        "Annotations/emri small_f0.xml",
        "Annotations/emri small_f6.xml",
        "Annotations/plain.xml",
    ]
    assert "<frame>6</frame>" in voc.read("Annotations/emri small_f6.xml").decode()
    assert "<frame>" not in voc.read("Annotations/plain.xml").decode()
    yolo = zipfile.ZipFile(io.BytesIO(harness.export(project, "yolo")))
    assert "labels/emri small_f6.txt" in yolo.namelist()

    # Another labeler's label of the item is on each labeled frame, empty where they drew
    # nothing: a submission says what is on every frame.
    harness.label(project, "bob", {mr: [on_frame(6, box("r1", "dog", 1, 1, 4, 4))]})
    rows = [
        (r["file"], r["labelers"], [b["x"] for b in r["boxes"]])
        for r in lines(harness.export(project, "jsonl"))
        if r["item_id"] == mr
    ]
    assert rows == [
        ("emri small.dcm#f0", ["ann"], [2]),
        ("emri small.dcm#f0", ["bob"], []),
        ("emri small.dcm#f6", ["ann"], [20]),
        ("emri small.dcm#f6", ["bob"], [1]),
    ]


def test_refusals_name_the_parameter(harness: Harness) -> None:
    project = harness.project("ner")
    base = f"/api/projects/{project}/export"

    def error(params: dict[str, str], user: str = "admin", path: str = base) -> tuple[int, Any]:
        response = harness.client.get(path, headers=harness.headers(user), params=params)
        return response.status_code, response.json()["error"]

    status, body = error({"format": "coco"})
    assert status == 422
    assert "use conll, jsonl" in body["message"] or "use jsonl, conll" in body["message"]
    assert error({"format": "nope"})[1]["field"] == "format"
    assert error({"format": "conll", "as_of": "10000000"})[0] == 422
    assert error({"format": "conll", "as_of": "yesterday"})[1]["field"] == "as_of"
    assert error({"format": "conll", "include": "secrets"})[1]["field"] == "include"
    assert error({"format": "conll", "overlap": "some"})[1]["field"] == "overlap"
    assert error({"format": "conll"}, user="ann")[0] == 403
    assert error({"format": "conll"}, path="/api/projects/nosuch/export")[0] == 404
    assert error({"format": "conll", "as_of": "1"})[0] == 404  # not created yet at seq 1
    formats = harness.get(f"{base}/formats").json()
    assert [f["name"] for f in formats["formats"]] == ["jsonl", "conll"]
    assert formats["imports"] == ["conll", "jsonl"]
