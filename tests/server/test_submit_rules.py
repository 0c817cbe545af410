"""Submit is refused until every item of the page is complete by the project type's rule, with
the failing item and the reason in the 422: multi-class exactly one tag, multi-label at least
one, regions each tagged."""

import io
from typing import Any

from PIL import Image

from tests.server.clients import Api, Clients, make_project, tag


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "PNG")
    return out.getvalue()


async def image_project(admin: Api, project: str, project_type: str, count: int) -> list[str]:
    await make_project(admin, project, project_type, items=0, page_size=count)
    files = [("files", (f"i{n}.png", png((n, 2 * n, 3)), "image/png")) for n in range(count)]
    answer = await admin.post(f"/api/projects/{project}/items", files=files, status=201)
    assert answer["imported"] == count
    listed = await admin.get(f"/api/projects/{project}/items")
    return [entry["item"]["item_id"] for entry in listed["items"]]


async def refused(api: Api, project: str, index: int, item: str, reason: str) -> None:
    """Submit fails on the page's item `index`, naming it and why."""
    answer: dict[str, Any] = await api.submit(project, status=422)
    error = answer["error"]
    assert error["field"] == f"items[{index}]", error
    assert error["item"] == item, error
    assert item in error["message"], error
    assert reason in error["message"], error


async def test_multiclass_needs_exactly_one_tag(clients: Clients) -> None:
    ann = clients("ann")
    await make_project(clients("admin"), "mc", "text_multiclass", items=6, page_size=3)
    assert (await ann.page("mc"))["items"] == ["t000", "t001", "t002"]
    await ann.gestures("mc", "t000", tag("a"))
    await ann.gestures("mc", "t002", tag("a"), tag("b"))  # the second replaces the first
    before = await clients("admin").last_seq()
    await refused(ann, "mc", 1, "t001", "exactly one tag (has 0)")
    assert await clients("admin").last_seq() == before
    await ann.gestures("mc", "t001", tag("c"), {"type": "annotation.tag_cleared", "tag": "c"})
    await refused(ann, "mc", 1, "t001", "exactly one tag (has 0)")
    await ann.gestures("mc", "t001", tag("c"))
    assert (await ann.state("mc", "t002"))["drafts"]["ann"]["tags"] == ["b"]
    answer = await ann.submit("mc")
    assert answer["submitted"] == ["t000", "t001", "t002"]
    state = await ann.state("mc", "t002")
    assert state["submitted"]["ann"]["tags"] == ["b"]


async def test_multilabel_needs_at_least_one_tag(clients: Clients) -> None:
    ann = clients("ann")
    await make_project(clients("admin"), "ml", "text_multilabel", items=4, page_size=2)
    assert (await ann.page("ml"))["items"] == ["t000", "t001"]
    await refused(ann, "ml", 0, "t000", "at least one tag")
    await ann.gestures("ml", "t000", tag("a"), tag("b"))
    await refused(ann, "ml", 1, "t001", "at least one tag")
    # Submitting part of the page checks only that part.
    assert (await ann.submit("ml", ["t000"]))["submitted"] == ["t000"]
    await refused(ann, "ml", 0, "t001", "at least one tag")
    await ann.gestures("ml", "t001", tag("c"))
    assert (await ann.submit("ml"))["submitted"] == ["t001"]
    state = await ann.state("ml", "t000")
    assert state["submitted"]["ann"]["tags"] == ["a", "b"]


def box(region: str, tag_name: str | None = None, x: float = 1) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "annotation.box_drawn",
        "region_id": region,
        "x": x,
        "y": 1,
        "w": 10,
        "h": 10,
    }
    if tag_name is not None:
        event["tag"] = tag_name
    return event


async def test_regions_must_each_be_tagged(clients: Clients) -> None:
    ann, admin = clients("ann"), clients("admin")
    items = await image_project(admin, "boxes", "bounding_boxes", 2)
    assert (await ann.page("boxes"))["items"] == items
    first, second = items
    await ann.gestures("boxes", first, box("r1", "a"), box("r2", x=20))
    await ann.gestures("boxes", second, box("r3", "b"))
    await refused(ann, "boxes", 0, first, "regions without a tag: r2")
    await ann.gestures(
        "boxes", first, {"type": "annotation.region_retagged", "region_id": "r2", "tag": "c"}
    )
    assert (await ann.submit("boxes"))["submitted"] == items

    polygon = [[1, 1], [30, 1], [15, 20]]
    items = await image_project(admin, "outlines", "polygons", 1)
    assert (await ann.page("outlines"))["items"] == items
    drawn = {"type": "annotation.polygon_drawn", "region_id": "p1", "points": polygon}
    await ann.gestures("outlines", items[0], drawn)
    await refused(ann, "outlines", 0, items[0], "regions without a tag: p1")
    # An image with no region at all is complete: nothing in it to tag.
    await ann.gestures("outlines", items[0], {"type": "annotation.all_regions_deleted"})
    assert (await ann.submit("outlines"))["submitted"] == items
