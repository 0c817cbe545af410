"""What the log makes possible in the browser: reloads lose nothing, undo/redo survive them, a
lost connection queues gestures that land exactly once, two people see each other's strokes,
and a silent labeler's page moves to someone else with a notice."""

import pytest
from playwright.sync_api import BrowserContext, Page, expect

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


def regions(api: Api, project: str, item: str, user: str = "ann") -> dict:
    drafts = api.get(f"/api/projects/{project}/items/{item}/state")["drafts"]
    return drafts.get(user, {}).get("regions", {})


def boxes_project(api: Api, **settings: object) -> str:
    files = [("a.png", png(320, 240))]
    return make_project(api, "bounding_boxes", ["cat", "dog"], files, page_size=1, **settings)


def draw_box(page: Page, x: float, y: float, w: float = 40, h: float = 30) -> None:
    drag(page, image_to_screen(page, x, y), image_to_screen(page, x + w, y + h))


def test_reload_restores_drafts_and_undo_redo_survive_it(page: Page, admin_api: Api) -> None:
    project = boxes_project(admin_api)
    open_labeling(page, "ann", project)
    stage_ready(page)
    page.keyboard.press("1")
    page.keyboard.press("r")
    draw_box(page, 10, 10)
    draw_box(page, 100, 100)
    wait_saved(page)
    item = page.evaluate("() => window.annolog.view.page.items[0]")
    drawn = [e for e in admin_api.log(project, kind="annotation.box_drawn")]
    assert len(drawn) == 2

    page.reload()
    stage_ready(page)
    listed = page.get_by_role("list", name="Regions").get_by_role("listitem")
    expect(listed).to_have_count(2)

    # A new tab has no local history: undo goes to the server's, on the item in view.
    page.keyboard.press("Control+z")
    expect(listed).to_have_count(1)
    undone = admin_api.log(project, kind="annotation.undone")
    assert [e["event"]["target"] for e in undone] == [drawn[1]["event_id"]]
    assert list(regions(admin_api, project, item)) == [drawn[0]["event"]["region_id"]]

    page.reload()
    stage_ready(page)
    expect(listed).to_have_count(1)
    page.keyboard.press("Control+Shift+z")
    expect(listed).to_have_count(2)
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    expect(listed).to_have_count(0)
    page.keyboard.press("Control+y")
    expect(listed).to_have_count(1)
    redone = admin_api.log(project, kind="annotation.redone")
    assert [e["event"]["target"] for e in redone] == [drawn[1]["event_id"], drawn[0]["event_id"]]
    assert list(regions(admin_api, project, item)) == [drawn[0]["event"]["region_id"]]


def test_lost_connection_queues_gestures_and_sends_them_once(
    page: Page, context: BrowserContext, admin_api: Api
) -> None:
    project = boxes_project(admin_api)
    open_labeling(page, "ann", project)
    stage_ready(page)
    page.keyboard.press("2")
    page.keyboard.press("r")
    context.set_offline(True)
    expect(page.get_by_text("Connection lost")).to_be_visible()
    draw_box(page, 20, 20)
    draw_box(page, 120, 60)
    expect(page.get_by_text("2 gestures kept here")).to_be_visible()
    assert admin_api.log(project, kind="annotation.box_drawn") == []
    # A reload while offline keeps them too (the queue is in localStorage).
    context.set_offline(False)
    wait_saved(page)
    expect(page.get_by_text("Connection lost")).to_be_hidden()
    drawn = admin_api.log(project, kind="annotation.box_drawn")
    assert len(drawn) == 2
    assert len({e["event_id"] for e in drawn}) == 2
    page.reload()
    stage_ready(page)
    expect(page.get_by_role("list", name="Regions").get_by_role("listitem")).to_have_count(2)
    assert len(admin_api.log(project, kind="annotation.box_drawn")) == 2


def test_gestures_queued_offline_survive_a_reload(
    page: Page, context: BrowserContext, admin_api: Api
) -> None:
    project = boxes_project(admin_api)
    open_labeling(page, "ann", project)
    stage_ready(page)
    page.keyboard.press("1")
    page.keyboard.press("r")
    context.set_offline(True)
    expect(page.get_by_text("Connection lost")).to_be_visible()
    draw_box(page, 30, 30)
    expect(page.get_by_text("1 gesture kept here")).to_be_visible()
    context.set_offline(False)
    # Reload before the socket is back: the page reads the queue and sends it.
    page.reload()
    stage_ready(page)
    wait_saved(page)
    assert len(admin_api.log(project, kind="annotation.box_drawn")) == 1
    expect(page.get_by_role("list", name="Regions").get_by_role("listitem")).to_have_count(1)


def test_two_browsers_on_one_item_see_each_others_strokes(
    page: Page, new_context, admin_api: Api
) -> None:  # type: ignore[no-untyped-def]
    project = boxes_project(admin_api, overlap=2)
    open_labeling(page, "ann", project)
    stage_ready(page)
    other = new_context().new_page()
    open_labeling(other, "bob", project)
    stage_ready(other)
    expect(page.get_by_role("status").filter(has_text="Also here: bob")).to_be_visible()
    expect(other.get_by_role("status").filter(has_text="Also here: ann")).to_be_visible()
    item = page.evaluate("() => window.annolog.view.page.items[0]")
    other.keyboard.press("2")
    other.keyboard.press("r")
    draw_box(other, 50, 50, 80, 60)
    wait_saved(other)
    page.wait_for_function(
        "item => window.annolog.view.others.get(item)?.get('bob')?.regions.size === 1", arg=item
    )
    page.keyboard.press("1")
    page.keyboard.press("r")
    draw_box(page, 200, 20)
    wait_saved(page)
    other.wait_for_function(
        "item => window.annolog.view.others.get(item)?.get('ann')?.regions.size === 1", arg=item
    )
    # Each draws only in their own draft.
    assert len(regions(admin_api, project, item, "ann")) == 1
    assert len(regions(admin_api, project, item, "bob")) == 1


def test_silent_labelers_page_moves_to_another_with_a_notice(
    page: Page, context: BrowserContext, new_context, admin_api: Api
) -> None:  # type: ignore[no-untyped-def]
    project = boxes_project(admin_api, lease_seconds=10)
    open_labeling(page, "ann", project)
    stage_ready(page)
    item = page.evaluate("() => window.annolog.view.page.items[0]")
    other = new_context().new_page()
    other.goto("/#/signin")
    open_labeling(other, "bob", project)
    expect(other.get_by_text("Nothing left to label")).to_be_visible()
    # Ann goes silent: no network, no heartbeats. Her lease lapses within ~10 s.
    context.set_offline(True)
    expect(other.get_by_text("Items came back to the queue")).to_be_visible(timeout=25_000)
    stage_ready(other)
    assert other.evaluate("() => window.annolog.view.page.items") == [item]
    assert admin_api.log(project, kind="queue.session_expired")
    # Back online, Ann is told her page went to someone else.
    context.set_offline(False)
    heading = page.get_by_role("heading", name="Your page went back to the queue")
    expect(heading).to_be_visible(timeout=15_000)
    expect(page.get_by_text("Your lease lapsed while you were away").first).to_be_visible()
