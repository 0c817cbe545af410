"""Sign in and out, the project list, instructions, help, the auditor's replay and admin screens."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, make_project, open_labeling, png, sign_in

pytestmark = pytest.mark.browser


def test_sign_in_projects_instructions_help_and_sign_out(page: Page, admin_api: Api) -> None:
    project = make_project(
        admin_api,
        "bounding_boxes",
        ["cat"],
        [("a.png", png(100, 80))],
        name="Screens test",
        instructions="# Box every cat\n\nUse **R** and drag.",
        page_size=1,
    )
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill("ann?")  # typing "?" never opens the help
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_have_count(0)
    page.get_by_label("Username").fill("ann")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("wrong username or password")
    sign_in(page, "ann")
    card = page.get_by_role("article", name="Screens test")
    expect(card.get_by_role("progressbar")).to_contain_text("0 / 1 items done")
    card.get_by_role("link", name="Instructions").click()
    expect(page.get_by_role("heading", name="Box every cat")).to_be_visible()
    expect(page.locator(".markdown strong")).to_have_text("R")
    page.get_by_role("link", name="Start labeling").click()
    # An image with no boxes is a valid answer: submit is allowed at once.
    expect(page.get_by_role("button", name="Submit")).to_be_enabled()
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_contain_text("Template box")
    expect(help_dialog).to_contain_text("Ctrl+Shift+Z")
    page.keyboard.press("Escape")
    expect(help_dialog).to_have_count(0)
    # Signing out releases the page at once.
    assert admin_api.get(f"/api/projects/{project}/stats")["counts"]["held"] == 1
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert admin_api.get(f"/api/projects/{project}/stats")["counts"]["held"] == 0
    assert admin_api.log(project, kind="queue.session_closed")


def test_auditor_replays_an_item_stroke_by_stroke(page: Page, admin_api: Api, server: str) -> None:
    project = make_project(
        admin_api,
        "semantic_segmentation",
        ["sky", "road"],
        [("a.png", png(120, 90))],
        page_size=1,
        members=(("ann", "labeler"), ("audrey", "auditor")),
    )
    ann = Api(server, "ann")
    item = ann.post(f"/api/projects/{project}/page", {})["items"][0]
    strokes = [
        {
            "type": "annotation.brush_painted",
            "stroke_id": f"s{i}",
            "tag": "sky",
            "radius": 4,
            "points": [[10 + 20 * i, 10], [10 + 20 * i, 60]],
        }
        for i in range(3)
    ]
    polygon = {
        "type": "annotation.polygon_drawn",
        "region_id": "p1",
        "tag": "road",
        "points": [[5, 70], [60, 70], [30, 85]],
    }
    events = [{"event_id": f"ev{i}", "event": e} for i, e in enumerate([*strokes, polygon])]
    ann.post(f"/api/projects/{project}/items/{item}/events", {"events": events})
    ann.post(f"/api/projects/{project}/items/{item}/undo")
    ann.close()

    sign_in(page, "audrey", f"#/p/{project}/audit/{item}")
    timeline = page.get_by_role("list", name="Timeline").get_by_role("listitem")
    expect(timeline).to_have_count(5)
    stage = page.locator("canvas.stage")
    expect(stage).to_have_attribute("data-strokes", "3")
    expect(stage).to_have_attribute("data-regions", "0")  # the polygon was undone
    slider = page.get_by_role("slider", name="Scrub through the history")
    slider.fill("2")
    expect(stage).to_have_attribute("data-strokes", "2")
    expect(page.get_by_role("status").filter(has_text="event 2 / 5")).to_be_visible()
    timeline.nth(3).click()
    expect(stage).to_have_attribute("data-regions", "1")
    page.get_by_role("button", name="Step forward").click()
    expect(page.get_by_role("status").filter(has_text="event 5 / 5")).to_be_visible()
    # Play from the end starts over and redraws one event at a time.
    page.evaluate(
        """() => { window.__seen = []; const c = document.querySelector('canvas.stage');
        new MutationObserver(() => window.__seen.push(c.dataset.strokes + '/' + c.dataset.regions))
            .observe(c, { attributes: true, attributeFilter: ['data-regions'] }); }"""
    )
    page.get_by_role("button", name="Play").click()
    expect(page.get_by_role("button", name="Play")).to_be_visible(timeout=5000)
    seen = page.evaluate("() => window.__seen")
    assert seen == ["0/0", "1/0", "2/0", "3/0", "3/1", "3/0"]
    # The project as of a moment.
    first_seq = admin_api.log(project)[0]["seq"]
    page.get_by_label("Sequence number").fill(str(first_seq))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("status").filter(has_text=f"As of seq {first_seq}")).to_contain_text(
        "0 / 0 items done"
    )


def test_admin_creates_imports_adds_members_and_rebuilds(page: Page, admin_api: Api) -> None:
    project_id = "ui_made"
    sign_in(page, "admin", "#/admin/new")
    page.get_by_label("Project id").fill(project_id)
    page.get_by_label("Name", exact=True).fill("Made in the UI")
    page.get_by_label("Type").select_option(label="Polygons")
    names = page.get_by_label("Tag name")
    names.nth(0).fill("roof")
    names.nth(1).fill("wall")
    page.get_by_label("Instructions (Markdown)").fill("# Outline roofs\n\n*Carefully.*")
    expect(
        page.get_by_label("Preview").get_by_role("heading", name="Outline roofs")
    ).to_be_visible()
    page.get_by_label("Page size").fill("1")
    page.get_by_label("Lease (seconds)").fill("120")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Made in the UI")).to_be_visible()
    page.get_by_label("Files to import").set_input_files(
        [
            {"name": "one.png", "mimeType": "image/png", "buffer": png(90, 60, 1)},
            {"name": "two.png", "mimeType": "image/png", "buffer": png(90, 60, 2)},
            {"name": "notes.exe", "mimeType": "application/octet-stream", "buffer": b"MZ..."},
        ]
    )
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="2 imported")).to_be_visible()
    page.get_by_label("User").select_option("ann")
    page.get_by_label("Role").select_option("labeler")
    page.get_by_role("button", name="Add / change role").click()
    expect(page.get_by_role("button", name="Remove ann")).to_be_visible()
    detail = admin_api.get(f"/api/projects/{project_id}")
    assert detail["project_type"] == "polygons"
    assert [t["name"] for t in detail["tags"]] == ["roof", "wall"]
    assert detail["members"]["ann"] == "labeler"
    assert detail["lease_seconds"] == 120
    assert detail["counts"]["total"] == 2
    page.goto("/#/admin")
    page.get_by_role("button", name="Rebuild from the log").click()
    expect(page.get_by_label("Rebuild progress")).to_contain_text("equals live: true")


def test_labeler_finishes_and_is_told(page: Page, admin_api: Api) -> None:
    project = make_project(admin_api, "image_multiclass", ["a", "b"], [("x.png", png(40, 40))])
    open_labeling(page, "ann", project)
    page.keyboard.press("2")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_role("heading", name="Nothing left to label")).to_be_visible()
    page.get_by_role("link", name="Back to projects").click()
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
