"""Classification pages of images and texts: selection, tags by click and key, submit, layout."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, make_project, open_labeling, png, wait_saved

pytestmark = pytest.mark.browser


def tags_of(api: Api, project: str, item: str, user: str = "ann") -> list[str]:
    drafts = api.get(f"/api/projects/{project}/items/{item}/state")["drafts"]
    return drafts.get(user, {}).get("tags", [])


def cards(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("list").get_by_role("listitem")


def test_multiclass_images_tag_selection_and_submit(page: Page, admin_api: Api) -> None:
    files = [(f"img{i}.png", png(64, 64, i)) for i in range(4)]
    project = make_project(
        admin_api, "image_multiclass", ["cat", "dog", "bird"], files, page_size=4
    )
    open_labeling(page, "ann", project)
    expect(cards(page)).to_have_count(4)
    # No selection: the tag is refused with a message.
    page.keyboard.press("1")
    expect(page.get_by_text("Select at least one item first")).to_be_visible()
    submit = page.get_by_role("button", name="Submit")
    expect(submit).to_be_disabled()
    # Select all, press 1: every image takes "cat"; then one image becomes "dog".
    page.get_by_role("button", name="Select all").click()
    page.keyboard.press("1")
    wait_saved(page)
    items = page.evaluate("() => window.annolog.view.page.items")
    assert all(tags_of(admin_api, project, item) == ["cat"] for item in items)
    page.get_by_role("button", name="Select all").click()  # deselect
    page.get_by_role("checkbox", name="Select img2.png").click()
    page.get_by_role("button", name="dog").click()
    wait_saved(page)
    first = page.evaluate(
        "() => window.annolog.view.items.get(window.annolog.view.page.items[0]).name"
    )
    assert first == "img0.png"
    named = {page.evaluate(f"() => window.annolog.view.items.get('{i}').name"): i for i in items}
    assert tags_of(admin_api, project, named["img2.png"]) == ["dog"]
    # Choosing the tag every selected image carries clears it.
    page.keyboard.press("2")
    wait_saved(page)
    assert tags_of(admin_api, project, named["img2.png"]) == []
    expect(submit).to_be_disabled()
    page.keyboard.press("3")
    expect(submit).to_be_enabled()
    page.keyboard.press("Control+Enter")
    expect(page.get_by_text("Nothing left to label")).to_be_visible()
    submitted = admin_api.log(project, kind="queue.page_submitted")
    assert sorted(submitted[0]["event"]["items"]) == sorted(items)
    assert tags_of(admin_api, project, named["img2.png"]) == ["bird"]


def test_multilabel_chip_x_and_layout_switch(page: Page, admin_api: Api) -> None:
    files = [(f"s{i}.png", png(64, 64, i)) for i in range(8)]
    project = make_project(
        admin_api, "image_multilabel", ["red", "round", "big"], files, page_size=4
    )
    open_labeling(page, "ann", project)
    expect(cards(page)).to_have_count(4)
    page.get_by_role("checkbox", name="Select s0.png").click()
    page.get_by_role("checkbox", name="Select s1.png").click()
    page.keyboard.press("1")
    # Multi-label: the images are deselected after a tag is applied.
    expect(page.get_by_role("checkbox", name="Select s0.png")).to_have_attribute(
        "aria-checked", "false"
    )
    page.get_by_role("checkbox", name="Select s0.png").click()
    page.keyboard.press("2")
    wait_saved(page)
    items = {
        page.evaluate(f"() => window.annolog.view.items.get('{i}').name"): i
        for i in page.evaluate("() => window.annolog.view.page.items")
    }
    assert tags_of(admin_api, project, items["s0.png"]) == ["red", "round"]
    assert tags_of(admin_api, project, items["s1.png"]) == ["red"]
    # The X on a chip clears that tag.
    page.get_by_role("button", name="Remove red from s0.png").click()
    wait_saved(page)
    assert tags_of(admin_api, project, items["s0.png"]) == ["round"]
    # Switching the layout warns, discards the page's drafts as events, deals a new page.
    page.get_by_label("Layout").select_option("1")
    page.get_by_role("button", name="Discard and switch").click()
    expect(cards(page)).to_have_count(1)
    discarded = admin_api.log(project, kind="annotation.draft_discarded")
    assert {e["event"]["reason"] for e in discarded} == {"layout_switch"}
    assert len(discarded) == 2


def test_text_classes_font_and_size_remembered(page: Page, admin_api: Api) -> None:
    texts = "\n".join(f'{{"text": "Story {i}: rain all week 🌧"}}' for i in range(3))
    project = make_project(
        admin_api,
        "text_multiclass",
        ["weather", "sports"],
        [("t.jsonl", texts.encode())],
        page_size=1,
    )
    open_labeling(page, "ann", project)
    text = page.locator(".text-card")
    expect(text).to_contain_text("rain all week")
    size = text.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    page.get_by_role("button", name="Larger text").click()
    page.get_by_role("button", name="Larger text").click()
    page.get_by_label("Font").select_option(label="Serif")
    page.keyboard.press("1")  # a page of one is selected already
    wait_saved(page)
    page.reload()
    text = page.locator(".text-card")
    expect(text).to_contain_text("rain all week")
    assert text.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") == size + 2
    assert "Georgia" in text.evaluate("e => getComputedStyle(e).fontFamily")
    item = page.evaluate("() => window.annolog.view.page.items[0]")
    assert tags_of(admin_api, project, item) == ["weather"]
    # Skip hands the text to others and deals the next one.
    page.get_by_role("button", name="Skip").click()
    expect(page.get_by_text("Skipped 1 item")).to_be_visible()
    assert admin_api.log(project, kind="queue.item_skipped")[0]["event"]["item"] == item
