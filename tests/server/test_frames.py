"""Gestures on a multi-frame DICOM item carry their frame: a frame the item does not have is
refused with a 422 naming the field, and a region on any frame counts for submit."""

from typing import Any

from server.demo.data import dicom_files
from tests.server.clients import Api, Clients, make_project
from tests.server.test_submit_rules import png, refused


async def dicom_and_image(admin: Api, project: str, project_type: str) -> dict[str, str]:
    """A project with the 10-frame MR and a PNG; their item ids by file name."""
    await make_project(admin, project, project_type, items=0, page_size=2)
    mr = dict(dicom_files())["emri_small.dcm"]
    files = [
        ("files", ("emri_small.dcm", mr, "application/dicom")),
        ("files", ("flat.png", png((1, 2, 3)), "image/png")),
    ]
    answer = await admin.post(f"/api/projects/{project}/items", files=files, status=201)
    assert answer["imported"] == 2
    listed = await admin.get(f"/api/projects/{project}/items")
    return {e["item"]["name"]: e["item"]["item_id"] for e in listed["items"]}


def stroke(stroke_id: str, frame: int | None, tag: str | None = "a") -> dict[str, Any]:
    event: dict[str, Any] = {"stroke_id": stroke_id, "radius": 2, "points": [[5, 5], [9, 9]]}
    event["type"] = "annotation.brush_erased" if tag is None else "annotation.brush_painted"
    if tag is not None:
        event["tag"] = tag
    if frame is not None:
        event["frame"] = frame
    return event


async def test_a_frame_the_item_does_not_have_is_refused(clients: Clients) -> None:
    ann, admin = clients("ann"), clients("admin")
    items = await dicom_and_image(admin, "mr_masks", "semantic_segmentation")
    mr, flat = items["emri_small.dcm"], items["flat.png"]
    page = (await ann.page("mr_masks"))["items"]
    before = await admin.last_seq()
    answer = await ann.gestures(
        "mr_masks", mr, stroke("s1", 9), stroke("s2", 10, tag=None), status=422
    )
    assert answer["error"]["field"] == "$.events[1].event.frame", answer
    assert "frame 10" in answer["error"]["message"]
    assert "0..9" in answer["error"]["message"]
    answer = await ann.gestures("mr_masks", flat, stroke("s3", 1), status=422)
    assert answer["error"]["field"] == "$.events[0].event.frame", answer
    assert "only frame 0" in answer["error"]["message"]
    polygon = {
        "type": "annotation.polygon_drawn",
        "region_id": "p1",
        "tag": "a",
        "points": [[1, 1], [9, 1], [5, 9]],
        "frame": 12,
    }
    answer = await ann.gestures("mr_masks", mr, polygon, status=422)
    assert answer["error"]["field"] == "$.events[0].event.frame", answer
    assert await admin.last_seq() == before

    await ann.gestures(
        "mr_masks", mr, stroke("s1", 9), stroke("s2", 3, tag=None), stroke("s4", None)
    )
    await ann.gestures("mr_masks", mr, {**polygon, "frame": 4})
    draft = (await ann.state("mr_masks", mr))["drafts"]["ann"]
    assert [(s["stroke_id"], s["frame"]) for s in draft["strokes"]] == [
        ("s1", 9),
        ("s2", 3),
        ("s4", 0),
    ]
    assert draft["regions"]["p1"]["frame"] == 4
    # An untagged polygon on frame 4 holds the submit back like one on frame 0 would.
    untagged = {k: v for k, v in polygon.items() if k != "tag"} | {"region_id": "p2", "frame": 7}
    await ann.gestures("mr_masks", mr, untagged)
    await refused(ann, "mr_masks", page.index(mr), mr, "regions without a tag: p2")
