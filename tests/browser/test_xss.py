"""Project text is data, never markup: payloads in a project's name, tag names, instructions
and item text show up as text on every screen, and none of them runs."""

import json

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.browser.conftest import Api, make_project, sign_in
from tests.browser.test_ner import word

pytestmark = pytest.mark.browser

NAME = "<img src=x onerror=\"window.__xss='name'\">"
TAG = "<img src=x onerror=window.__xss='tag'>"
TEXT = "<img src=x onerror=\"window.__xss='text'\"><script>window.__xss='script'</script> Ada"
INSTRUCTIONS = """# Rules <script>window.__xss='h1'</script>

<img src=x onerror="window.__xss='md'">

[click me](javascript:window.__xss='link') and [docs](https://example.org/guide)

**bold <svg onload="window.__xss='svg'">**
"""


def inert(page: Page) -> None:
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("main script, main img[src=x], main svg, #toasts img").count() == 0


@pytest.mark.parametrize("project_type", ["text_multiclass", "ner"])
def test_payloads_stay_inert_text(page: Page, admin_api: Api, project_type: str) -> None:
    dialogs: list[Dialog] = []
    page.on("dialog", lambda d: (dialogs.append(d), d.dismiss()))
    files = [("t.jsonl", json.dumps({"text": TEXT}).encode())]
    project = make_project(
        admin_api,
        project_type,
        [TAG, "plain"],
        files,
        name=NAME,
        instructions=INSTRUCTIONS,
        page_size=1,
        members=(("ann", "labeler"), ("audrey", "auditor")),
    )
    sign_in(page, "ann")
    expect(page.get_by_role("link", name=NAME).first).to_be_visible()
    inert(page)

    page.goto(f"/#/p/{project}")
    expect(page.get_by_text("<img src=x onerror=\"window.__xss='md'\">")).to_be_visible()
    expect(
        page.get_by_role("heading", name="Rules <script>window.__xss='h1'</script>")
    ).to_be_visible()
    expect(page.get_by_role("link", name="click me")).to_have_count(0)
    expect(page.get_by_role("link", name="docs")).to_have_attribute(
        "href", "https://example.org/guide"
    )
    expect(page.locator(".markdown strong")).to_contain_text("<svg onload=")
    page.get_by_text("click me").click()
    inert(page)

    page.goto(f"/#/p/{project}/label")
    expect(page.get_by_role("button", name=TAG)).to_be_visible()
    expect(page.get_by_text("window.__xss='script'", exact=False).first).to_be_visible()
    # Tag the text with the payload tag: it shows as a chip / span label, as text.
    page.keyboard.press("1")
    if project_type == "ner":
        word(page, "Ada")
        expect(page.locator("mark.span")).to_have_attribute("data-tag", TAG)
    else:
        expect(page.locator(".item-tags .chip")).to_contain_text(TAG)
    page.get_by_role("button", name="Instructions").click()
    expect(page.get_by_role("dialog", name="Instructions")).to_contain_text("onerror")
    inert(page)
    page.keyboard.press("Escape")

    page.goto("/#/signin")
    sign_in(page, "audrey", f"#/p/{project}/audit")
    page.get_by_role("navigation", name="Items").get_by_role("link").first.click()
    expect(page.get_by_role("list", name="Timeline").get_by_role("listitem")).to_have_count(1)
    inert(page)
    assert dialogs == []
