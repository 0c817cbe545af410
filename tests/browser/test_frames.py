"""Multi-frame DICOM: what is drawn on a frame is shown on that frame only, and the log records
the frame of each stroke and region."""

import pytest
from playwright.sync_api import Page, expect

from server.demo.data import dicom_files
from tests.browser.conftest import (
    Api,
    drag,
    image_to_screen,
    make_project,
    open_labeling,
    sign_in,
    stage_ready,
    wait_saved,
)

pytestmark = pytest.mark.browser


def go_to_frame(page: Page, frame: int) -> None:
    """Pages with the toolbar's arrow until frame `frame` (0-based) is on screen."""
    while page.evaluate("() => window.annolog.view.view.dicom.frame") != frame:
        page.get_by_role("button", name="Next frame").click()
        page.wait_for_function(
            "() => { const ed = window.annolog.view.view; "
            "return ed.canvas.dataset.frame === String(ed.dicom.frame); }"
        )
    expect(page.get_by_label("Frame", exact=True)).to_have_text(f"frame {frame + 1} / 10")
    page.wait_for_function(f"() => window.annolog.view.view.canvas.dataset.frame === '{frame}'")


def mask_values(page: Page, points: list[tuple[int, int]]) -> list[int]:
    return page.evaluate(
        "(points) => points.map(([x, y]) => window.annolog.view.view.mask.valueAt(x, y))", points
    )


def test_strokes_and_regions_stay_on_their_frame(page: Page, admin_api: Api, server: str) -> None:
    mr = dict(dicom_files())["emri_small.dcm"]
    project = make_project(
        admin_api,
        "semantic_segmentation",
        ["lesion", "organ"],
        [("emri_small.dcm", mr)],
        members=(("ann", "labeler"), ("audrey", "auditor")),
    )
    open_labeling(page, "ann", project)
    stage_ready(page)
    page.wait_for_function("() => window.annolog.view.view.dicom?.frames === 10")
    regions = page.get_by_role("list", name="Regions").get_by_role("listitem")
    elsewhere = page.get_by_label("Regions on other frames")

    # Frame 1 (index 0): a lesion stroke along the top.
    page.keyboard.press("1")
    page.keyboard.press("b")
    drag(page, image_to_screen(page, 8, 8), image_to_screen(page, 24, 8))
    wait_saved(page)

    # Frame 7 (index 6): nothing of frame 1 shows; a polygon and an organ stroke go there.
    go_to_frame(page, 6)
    assert mask_values(page, [(16, 8)]) == [0]
    expect(regions).to_have_count(0)
    page.keyboard.press("p")
    for point in [(20, 30), (50, 30), (50, 55)]:
        page.mouse.click(*image_to_screen(page, *point))
    page.mouse.dblclick(*image_to_screen(page, 20, 55))
    page.keyboard.press("Escape")  # else the number key retags the new polygon
    page.keyboard.press("2")
    page.keyboard.press("b")
    drag(page, image_to_screen(page, 40, 8), image_to_screen(page, 56, 8))
    wait_saved(page)
    expect(regions).to_have_count(1)
    expect(elsewhere).to_have_count(0)
    assert mask_values(page, [(16, 8), (48, 8)]) == [0, 2]

    recorded = [
        (e["event"]["type"].removeprefix("annotation."), e["event"].get("frame"))
        for e in admin_api.log(project, actor="ann")
        if e["stream"].startswith("item-")
    ]
    assert recorded == [("brush_painted", 0), ("polygon_drawn", 6), ("brush_painted", 6)]

    # Back on frame 1 (paging wraps round): its stroke only, and a note of the polygon.
    go_to_frame(page, 0)
    assert mask_values(page, [(16, 8), (48, 8)]) == [1, 0]
    expect(regions).to_have_count(0)
    expect(elsewhere).to_have_text("1 region on other frames")

    # A reload reads the frames back from the server's draft.
    page.reload()
    stage_ready(page)
    page.wait_for_function("() => window.annolog.view.view.dicom?.frames === 10")
    assert mask_values(page, [(16, 8), (48, 8)]) == [1, 0]
    expect(elsewhere).to_have_text("1 region on other frames")
    go_to_frame(page, 6)
    assert mask_values(page, [(16, 8), (48, 8)]) == [0, 2]
    expect(regions).to_have_count(1)

    # The auditor's replay goes to the frame of the gesture scrubbed to.
    browser = page.context.browser
    assert browser is not None
    auditor = browser.new_context(base_url=server, viewport={"width": 1360, "height": 860})
    try:
        audit = auditor.new_page()
        item = page.evaluate("() => window.annolog.view.page.items[0]")
        sign_in(audit, "audrey", f"#/p/{project}/audit/{item}")
        timeline = audit.get_by_role("list", name="Timeline").get_by_role("listitem")
        expect(timeline).to_have_count(3)
        expect(timeline.nth(1)).to_contain_text('polygon drawn "lesion" on frame 7')
        stage = audit.locator("canvas.stage")
        expect(stage).to_have_attribute("data-frame", "6")
        expect(stage).to_have_attribute("data-strokes", "1")
        expect(stage).to_have_attribute("data-regions", "1")
        expect(audit.get_by_label("Frame", exact=True)).to_have_text("frame 7 / 10")
        audit.get_by_role("slider", name="Scrub through the history").fill("1")
        expect(stage).to_have_attribute("data-frame", "0")
        expect(stage).to_have_attribute("data-strokes", "1")
        expect(stage).to_have_attribute("data-regions", "0")
    finally:
        auditor.close()
