"""Boxes, polygons and masks drawn with the mouse and keys; the log must hold each gesture."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    Api,
    drag,
    image_to_screen,
    make_project,
    open_labeling,
    png,
    stage_ready,
    wait_saved,
)

pytestmark = pytest.mark.browser


def gestures(api: Api, project: str, user: str = "ann") -> list[dict]:
    return [e["event"] for e in api.log(project, actor=user) if e["stream"].startswith("item-")]


def test_boxes_draw_template_move_resize_lock_retag_delete(page: Page, admin_api: Api) -> None:
    project = make_project(
        admin_api, "bounding_boxes", ["cat", "dog"], [("a.png", png(320, 240))], page_size=1
    )
    open_labeling(page, "ann", project)
    stage_ready(page)
    page.keyboard.press("1")
    page.keyboard.press("r")
    drag(page, image_to_screen(page, 20, 30), image_to_screen(page, 120, 90))
    wait_saved(page)
    drawn = gestures(admin_api, project)[-1]
    assert drawn["type"] == "annotation.box_drawn"
    assert drawn["tag"] == "cat"
    assert abs(drawn["x"] - 20) < 1
    assert abs(drawn["y"] - 30) < 1
    assert abs(drawn["w"] - 100) < 1.5
    assert abs(drawn["h"] - 60) < 1.5

    # Template: the size of the last box drawn, placed with one click.
    page.keyboard.press("t")
    page.mouse.click(*image_to_screen(page, 250, 180))
    wait_saved(page)
    template = gestures(admin_api, project)[-1]
    assert template["type"] == "annotation.box_drawn"
    assert (template["w"], template["h"]) == (drawn["w"], drawn["h"])

    # Move (M): drag the inside of the first box.
    page.keyboard.press("m")
    drag(page, image_to_screen(page, 60, 60), image_to_screen(page, 80, 70))
    wait_saved(page)
    moved = gestures(admin_api, project)[-1]
    assert moved["type"] == "annotation.box_moved"
    assert moved["region_id"] == drawn["region_id"]
    assert abs(moved["x"] - (drawn["x"] + 20)) < 1.5

    # Resize by the bottom-right corner.
    corner = (moved["x"] + drawn["w"], moved["y"] + drawn["h"])
    drag(
        page, image_to_screen(page, *corner), image_to_screen(page, corner[0] + 30, corner[1] + 20)
    )
    wait_saved(page)
    resized = gestures(admin_api, project)[-1]
    assert resized["type"] == "annotation.box_resized"
    assert abs(resized["w"] - (drawn["w"] + 30)) < 1.5

    # Retag the selected box with the number key, then lock it: it cannot be moved.
    page.keyboard.press("2")
    page.keyboard.press("l")
    wait_saved(page)
    events = gestures(admin_api, project)
    assert events[-2] == {
        "type": "annotation.region_retagged",
        "region_id": drawn["region_id"],
        "tag": "dog",
    }
    assert events[-1]["type"] == "annotation.region_lock_toggled"
    assert events[-1]["locked"]
    before = len(events)
    centre = (resized["x"] + 20, resized["y"] + 20)
    drag(page, image_to_screen(page, *centre), image_to_screen(page, centre[0] + 40, centre[1]))
    expect(page.get_by_text("This region is locked")).to_be_visible()
    page.keyboard.press("x")
    wait_saved(page)
    assert len(gestures(admin_api, project)) == before
    expect(page.get_by_role("list", name="Regions").get_by_role("listitem")).to_have_count(2)

    # Delete all: the locked box stays, as the lock promises.
    page.keyboard.press("Shift+Delete")
    page.get_by_role("button", name="Delete all").last.click()
    wait_saved(page)
    assert gestures(admin_api, project)[-1]["type"] == "annotation.all_regions_deleted"
    expect(page.get_by_role("list", name="Regions").get_by_role("listitem")).to_have_count(1)

    # Unlock it from the list, delete it with X, and submit the (empty) page.
    page.get_by_role("button", name="Unlock dog").click()
    page.get_by_role("button", name="Select box dog").click()
    page.keyboard.press("x")
    wait_saved(page)
    assert gestures(admin_api, project)[-1] == {
        "type": "annotation.region_deleted",
        "region_id": drawn["region_id"],
    }
    page.keyboard.press("Control+Enter")
    expect(page.get_by_text("Nothing left to label")).to_be_visible()
    assert admin_api.log(project, kind="queue.page_submitted")


def test_zoomed_boxes_stay_aligned(page: Page, admin_api: Api) -> None:
    project = make_project(
        admin_api, "bounding_boxes", ["cat"], [("a.png", png(400, 300))], page_size=1
    )
    open_labeling(page, "ann", project)
    stage_ready(page)
    canvas = page.locator("canvas.stage")
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(4):
        page.mouse.wheel(0, -100)
    page.keyboard.press("1")
    page.keyboard.press("r")
    page.wait_for_timeout(100)
    drag(page, image_to_screen(page, 200, 150), image_to_screen(page, 210, 160))
    wait_saved(page)
    drawn = gestures(admin_api, project)[-1]
    assert abs(drawn["x"] - 200) < 0.5
    assert abs(drawn["w"] - 10) < 0.5


def test_polygons_draw_edit_points_move(page: Page, admin_api: Api) -> None:
    project = make_project(admin_api, "polygons", ["roof"], [("a.png", png(320, 240))], page_size=1)
    open_labeling(page, "ann", project)
    stage_ready(page)
    page.keyboard.press("1")
    page.keyboard.press("p")
    for point in [(50, 50), (150, 50), (150, 150)]:
        page.mouse.click(*image_to_screen(page, *point))
    page.mouse.dblclick(*image_to_screen(page, 50, 150))
    wait_saved(page)
    drawn = gestures(admin_api, project)[-1]
    assert drawn["type"] == "annotation.polygon_drawn"
    assert [[round(x), round(y)] for x, y in drawn["points"]] == [
        [50, 50],
        [150, 50],
        [150, 150],
        [50, 150],
    ]
    # U: a click on an edge adds a point, a click on a point removes it.
    page.keyboard.press("u")
    page.mouse.click(*image_to_screen(page, 100, 50))
    wait_saved(page)
    added = gestures(admin_api, project)[-1]
    assert added["type"] == "annotation.polygon_point_added"
    assert added["index"] == 1
    page.mouse.click(*image_to_screen(page, 150, 150))
    wait_saved(page)
    removed = gestures(admin_api, project)[-1]
    assert removed == {
        "type": "annotation.polygon_point_removed",
        "region_id": drawn["region_id"],
        "index": 3,
    }
    # M: drag the inside to move the whole polygon; drag a point to move it alone.
    page.keyboard.press("m")
    drag(page, image_to_screen(page, 70, 100), image_to_screen(page, 90, 110))
    wait_saved(page)
    moved = gestures(admin_api, project)[-1]
    assert moved["type"] == "annotation.polygon_moved"
    assert abs(moved["dx"] - 20) < 1.5
    assert abs(moved["dy"] - 10) < 1.5
    drag(page, image_to_screen(page, 70, 60), image_to_screen(page, 60, 40))
    wait_saved(page)
    assert gestures(admin_api, project)[-1]["type"] == "annotation.polygon_point_moved"


def test_semantic_brush_eraser_and_polygon(page: Page, admin_api: Api) -> None:
    project = make_project(
        admin_api,
        "semantic_segmentation",
        ["sky", "road"],
        [("a.png", png(200, 150))],
        page_size=1,
    )
    open_labeling(page, "ann", project)
    stage_ready(page)
    page.keyboard.press("1")
    page.keyboard.press("b")
    drag(page, image_to_screen(page, 20, 20), image_to_screen(page, 120, 20), steps=12)
    wait_saved(page)
    painted = gestures(admin_api, project)[-1]
    assert painted["type"] == "annotation.brush_painted"
    assert painted["tag"] == "sky"
    assert len(painted["points"]) >= 2
    # Repaint part of it with another tag, erase a bit, and check the client's mask.
    page.keyboard.press("2")
    drag(page, image_to_screen(page, 60, 10), image_to_screen(page, 60, 30))
    page.keyboard.press("e")
    drag(page, image_to_screen(page, 100, 10), image_to_screen(page, 100, 30))
    wait_saved(page)
    kinds = [e["type"] for e in gestures(admin_api, project)[-2:]]
    assert kinds == ["annotation.brush_painted", "annotation.brush_erased"]
    values = page.evaluate(
        "() => { const m = window.annolog.view.view.mask; "
        "return [m.valueAt(30, 20), m.valueAt(60, 20), m.valueAt(100, 20), m.valueAt(30, 100)]; }"
    )
    assert values == [1, 2, 0, 0]
    # The brush size control changes the radius of the next stroke.
    page.keyboard.press("b")
    page.keyboard.press("]")
    page.keyboard.press("]")
    drag(page, image_to_screen(page, 20, 100), image_to_screen(page, 40, 100))
    wait_saved(page)
    assert gestures(admin_api, project)[-1]["radius"] == painted["radius"] + 2
