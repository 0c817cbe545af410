"""NER: spans by double-click and by drag, Unicode-safe offsets, select-by-chip and retag."""

import json

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, make_project, open_labeling, wait_saved

pytestmark = pytest.mark.browser

TEXT = "🏆 Zoë Müller met Ada Lovelace in São Paulo, then Zoe\u0308 flew to Kyoto 👩‍👩‍👧."


def spans(api: Api, project: str, item: str) -> list[dict]:
    drafts = api.get(f"/api/projects/{project}/items/{item}/state")["drafts"]
    return sorted(drafts["ann"]["spans"].values(), key=lambda s: s["start"])


def word(page: Page, text: str) -> None:
    """Double-clicks the first occurrence of `text` in the text being labeled."""
    page.locator(".ner-text").get_by_text(text, exact=False).first.wait_for()
    box = page.evaluate(
        """(needle) => {
            const root = document.querySelector('.ner-text');
            const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                const i = n.data.indexOf(needle);
                if (i < 0) continue;
                const r = document.createRange();
                r.setStart(n, i); r.setEnd(n, i + needle.length);
                const b = r.getBoundingClientRect();
                return [b.left, b.top, b.width, b.height];
            }
            return null;
        }""",
        text,
    )
    assert box is not None, text
    page.wait_for_timeout(250)  # a person's two double-clicks are never milliseconds apart
    page.mouse.dblclick(box[0] + box[2] / 2, box[1] + box[3] / 2)


def select_range(page: Page, start: str, end: str) -> None:
    """Drags from the start of `start` to the end of `end` with the mouse."""
    boxes = page.evaluate(
        """([a, b]) => {
            const root = document.querySelector('.ner-text');
            const out = [];
            for (const [needle, atEnd] of [[a, false], [b, true]]) {
                const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
                for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                    const i = n.data.indexOf(needle);
                    if (i < 0) continue;
                    const r = document.createRange();
                    r.setStart(n, i); r.setEnd(n, i + needle.length);
                    const rect = r.getBoundingClientRect();
                    out.push([atEnd ? rect.right - 1 : rect.left + 1, rect.top + rect.height / 2]);
                    break;
                }
            }
            return out;
        }""",
        [start, end],
    )
    page.mouse.move(*boxes[0])
    page.mouse.down()
    page.mouse.move(*boxes[1], steps=10)
    page.mouse.up()


def test_ner_spans_offsets_selection_and_retag(page: Page, admin_api: Api) -> None:
    project = make_project(
        admin_api,
        "ner",
        ["PERSON", "PLACE", "ORG"],
        [("t.jsonl", json.dumps({"text": TEXT}, ensure_ascii=False).encode())],
        page_size=1,
    )
    open_labeling(page, "ann", project)
    item = page.evaluate("() => window.annolog.view.page.items[0]")
    # Without a tag nothing is tagged and the labeler is told.
    word(page, "Kyoto")
    expect(page.get_by_text("Pick a tag first")).to_be_visible()
    marks = page.locator("mark.span")
    page.keyboard.press("2")
    word(page, "Kyoto")
    # Each span moves the words after it (its tag label): wait before aiming at the next.
    expect(marks).to_have_count(1)
    select_range(page, "ão", "Paul")  # a partial drag snaps to whole words
    expect(marks).to_have_count(2)
    page.keyboard.press("1")
    select_range(page, "Zoë", "Müller")
    expect(marks).to_have_count(3)
    word(page, "Lovelace")
    expect(marks).to_have_count(4)
    word(page, "Zoe\u0308")
    expect(marks).to_have_count(5)
    wait_saved(page)
    got = spans(admin_api, project, item)
    # Offsets are code points of the text, as Python slices it.
    assert [(TEXT[s["start"] : s["end"]], s["tag"]) for s in got] == [
        ("Zoë Müller", "PERSON"),
        ("Lovelace", "PERSON"),
        ("São Paulo", "PLACE"),
        ("Zoe\u0308", "PERSON"),
        ("Kyoto", "PLACE"),
    ]
    # Click PERSON's chip: all three PERSON spans are selected; click one span out;
    # choose ORG: the two still selected are retagged in one gesture.
    page.get_by_role("button", name="Select all PERSON spans").click()
    expect(page.locator("mark.span.selected")).to_have_count(3)
    page.locator("mark.span", has_text="Lovelace").click()
    expect(page.locator("mark.span.selected")).to_have_count(2)
    page.keyboard.press("3")
    wait_saved(page)
    retagged = admin_api.log(project, kind="annotation.spans_retagged")
    assert len(retagged) == 1
    assert retagged[0]["event"]["tag"] == "ORG"
    by_id = {s["span_id"]: TEXT[s["start"] : s["end"]] for s in got}
    assert sorted(by_id[i] for i in retagged[0]["event"]["span_ids"]) == ["Zoe\u0308", "Zoë Müller"]
    tags = {TEXT[s["start"] : s["end"]]: s["tag"] for s in spans(admin_api, project, item)}
    assert tags["Lovelace"] == "PERSON"
    assert tags["Zoë Müller"] == "ORG"
    # X removes one span.
    page.get_by_role("button", name="Remove span PLACE").first.click()
    wait_saved(page)
    assert len(spans(admin_api, project, item)) == 4
    expect(page.get_by_role("button", name="Submit")).to_be_enabled()
