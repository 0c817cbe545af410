"""DICOM in the browser: the client windows the server's modality values itself and must show
what the server renders; dragging changes the window and the pixels; presets, reset, frames."""

import io
import random

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from server.demo.data import dicom_files
from tests.browser.conftest import (
    Api,
    drag,
    image_to_screen,
    make_project,
    open_labeling,
    stage_ready,
    wait_saved,
)

pytestmark = pytest.mark.browser


def show(page: Page, name: str) -> None:
    """Pages through the editor's items until `name` is shown."""
    order = page.evaluate(
        "() => window.annolog.view.page.items.map(i => window.annolog.view.items.get(i).name)"
    )
    steps = order.index(name) - page.evaluate("() => window.annolog.view.view.index")
    for _ in range(abs(steps)):
        page.keyboard.press("ArrowRight" if steps > 0 else "ArrowLeft")
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    stage_ready(page)
    page.wait_for_function(
        "n => window.annolog.view.view.info.name === n && window.annolog.view.view.base", arg=name
    )


def client_grey(page: Page, points: list[tuple[int, int]]) -> list[int]:
    """The grey levels the client computed for these image pixels (its windowed frame)."""
    return page.evaluate(
        """(points) => {
            const d = window.annolog.view.view.dicom;
            const data = d.ctx.getImageData(0, 0, d.canvas.width, d.canvas.height).data;
            return points.map(([x, y]) => data[(y * d.canvas.width + x) * 4]);
        }""",
        points,
    )


def stage_pixel(page: Page, x: float, y: float) -> list[int]:
    """The displayed colour of image pixel (x, y) on the visible canvas."""
    return page.evaluate(
        """([x, y]) => {
            const ed = window.annolog.view.view;
            ed.draw();
            const dpr = ed.dpr;
            const sx = Math.round((x * ed.view.scale + ed.view.tx) * dpr);
            const sy = Math.round((y * ed.view.scale + ed.view.ty) * dpr);
            return [...ed.ctx.getImageData(sx, sy, 1, 1).data];
        }""",
        [x, y],
    )


def test_window_level_presets_frames_and_parity_with_the_server(page: Page, admin_api: Api) -> None:
    files = list(dicom_files())
    assert len(files) == 4, "pydicom's test files and pydicom-data are needed"
    project = make_project(admin_api, "bounding_boxes", ["lesion", "organ"], files, page_size=4)
    open_labeling(page, "ann", project)
    items = {
        page.evaluate(f"() => window.annolog.view.items.get('{i}').name"): i
        for i in page.evaluate("() => window.annolog.view.page.items")
    }
    rng = random.Random(5)
    # The default view equals the server's rendering (same window, same rounding, MONOCHROME1
    # inverted), on every file.
    for name in ["CT_small.dcm", "MR_small.dcm", "emri_small.dcm", "RG1_UNCI.dcm"]:
        show(page, name)
        answer = admin_api.client.get(f"/api/projects/{project}/items/{items[name]}/media?view=png")
        server = np.asarray(Image.open(io.BytesIO(answer.content)).convert("L"))
        height, width = server.shape
        points = [(rng.randrange(width), rng.randrange(height)) for _ in range(1500)]
        expected = [int(server[y, x]) for x, y in points]
        assert client_grey(page, points) == expected, name

    # Dragging (W tool) changes the window and the pixels shown; presets and reset.
    show(page, "CT_small.dcm")
    window = page.get_by_label("Current window")
    before_text = window.inner_text()
    before = stage_pixel(page, 64, 64)
    page.keyboard.press("w")
    drag(page, image_to_screen(page, 40, 40), image_to_screen(page, 10, 70))
    expect(window).not_to_have_text(before_text)
    after = stage_pixel(page, 64, 64)
    assert after != before
    page.get_by_label("Window preset").select_option(label="CT lung (1500/-600)")
    expect(window).to_have_text("W 1500 / L -600")
    page.get_by_role("button", name="Reset").click()
    expect(window).to_have_text(before_text)
    assert stage_pixel(page, 64, 64) == before
    # Right-drag works from any tool, and boxes are drawn on DICOM items as on images.
    page.keyboard.press("r")
    canvas = page.locator("canvas.stage")
    start = image_to_screen(page, 64, 64)
    page.mouse.move(*start)
    page.mouse.down(button="right")
    page.mouse.move(start[0] + 60, start[1], steps=5)
    page.mouse.up(button="right")
    expect(window).not_to_have_text(before_text)
    page.keyboard.press("1")
    drag(page, image_to_screen(page, 30, 30), image_to_screen(page, 90, 80))
    wait_saved(page)
    drawn = admin_api.log(project, kind="annotation.box_drawn")
    assert len(drawn) == 1
    assert drawn[0]["stream"].endswith(items["CT_small.dcm"])
    assert canvas.is_visible()

    # Multi-frame: paging shows another frame.
    show(page, "emri_small.dcm")
    expect(page.get_by_label("Frame", exact=True)).to_have_text("frame 1 / 10")
    first = client_grey(page, [(32, 32), (20, 40), (40, 20)])
    page.get_by_role("button", name="Next frame").click()
    expect(page.get_by_label("Frame", exact=True)).to_have_text("frame 2 / 10")
    page.wait_for_function("() => window.annolog.view.view.dicom.frame === 1")
    assert client_grey(page, [(32, 32), (20, 40), (40, 20)]) != first
