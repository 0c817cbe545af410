"""Screenshots of every screen of the web client into docs/screenshots/ (Playwright + chromium).

Starts `annolog demo` in a temp dir, makes some work through the HTTP API (tags, boxes,
polygons, brush strokes, spans, submits) so that the screens show real content, then signs in
as each demo user and saves one PNG per screen.

    python scripts/screenshots.py [--out docs/screenshots]
"""

import argparse
import tempfile
from pathlib import Path

from chromium import CHROMIUM, NOT_INSTALLED, VIEWPORT, demo_server, launch_options
from playwright.sync_api import Page, sync_playwright
from screenshot_work import prepare

ROOT = Path(__file__).resolve().parent.parent


def sign_in(page: Page, base: str, user: str) -> None:
    page.goto(f"{base}/#/signin")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(f"{user}-demo-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Projects").wait_for()


def label(page: Page, base: str, project: str) -> None:
    page.goto(f"{base}/#/p/{project}/label")
    page.wait_for_function(
        "p => window.annolog.view?.projectId === p && document.querySelector('.label-foot')",
        arg=project,
    )
    page.get_by_role("button", name="Submit").wait_for()
    if page.evaluate("() => window.annolog.view.view?.canvas !== undefined"):
        page.locator("canvas.stage[data-ready=true]").wait_for()
    page.wait_for_timeout(600)


def shoot(page: Page, out: Path, name: str) -> None:
    page.wait_for_timeout(250)
    page.screenshot(path=str(out / f"{name}.png"))
    print("saved", out / f"{name}.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    if CHROMIUM is None:
        raise SystemExit(NOT_INSTALLED)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="annolog-shots-"))
    with demo_server(root) as base:
        chosen = prepare(base)
        with sync_playwright() as p:
            browser = p.chromium.launch(**launch_options("--font-render-hinting=none"))
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"{base}/#/signin")
            page.get_by_role("heading", name="Sign in").wait_for()
            shoot(page, out, "01-sign-in")
            sign_in(page, base, "ann")
            shoot(page, out, "02-projects")
            page.goto(f"{base}/#/p/boxes")
            page.get_by_role("heading", name="Detailed instructions").wait_for()
            shoot(page, out, "03-instructions")

            label(page, base, "digits")
            for name in page.locator(".item-card").all()[5:7]:
                name.locator(".select-circle").click()
            shoot(page, out, "04-image-multiclass")
            label(page, base, "shapes")
            shoot(page, out, "05-image-multilabel")
            label(page, base, "boxes")
            page.keyboard.press("m")
            page.get_by_role("button", name="Select box").nth(1).click()
            shoot(page, out, "06-bounding-boxes")
            page.keyboard.press("?")
            shoot(page, out, "07-help")
            page.keyboard.press("Escape")
            label(page, base, "outlines")
            page.keyboard.press("1")
            page.keyboard.press("p")
            shoot(page, out, "08-polygons")
            label(page, base, "masks")
            page.keyboard.press("2")
            page.keyboard.press("b")
            box = page.locator("canvas.stage").bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.75)
            shoot(page, out, "09-semantic-segmentation")
            label(page, base, "news")
            shoot(page, out, "10-text-multiclass")
            label(page, base, "support")
            circles = page.locator(".item-card .select-circle")
            circles.nth(0).click()
            page.keyboard.press("1")
            circles.nth(1).click()
            circles.nth(2).click()
            page.keyboard.press("3")
            circles.nth(0).click()
            page.keyboard.press("3")
            circles.nth(4).click()
            shoot(page, out, "11-text-multilabel")
            label(page, base, "people")
            page.get_by_role("button", name="Select all PERSON spans").click()
            shoot(page, out, "12-ner")
            label(page, base, "scans")
            page.get_by_label("Window preset").select_option(label="CT soft tissue (400/40)")
            page.get_by_role("button", name="Select box organ").click()
            shoot(page, out, "13-dicom")

            page.get_by_role("button", name="Sign out").click()
            page.get_by_role("heading", name="Sign in").wait_for()
            sign_in(page, base, "audrey")
            page.goto(f"{base}/#/p/masks/audit/{chosen['masks']}")
            page.locator("canvas.stage").wait_for()
            page.wait_for_timeout(800)
            slider = page.get_by_role("slider", name="Scrub through the history")
            slider.fill(str(int(slider.get_attribute("max") or "2") * 2 // 3))
            shoot(page, out, "14-auditor")

            page.get_by_role("button", name="Sign out").click()
            page.get_by_role("heading", name="Sign in").wait_for()
            sign_in(page, base, "admin")
            page.goto(f"{base}/#/admin")
            page.get_by_role("heading", name="Administration").wait_for()
            page.get_by_role("button", name="Rebuild from the log").click()
            page.get_by_label("Rebuild progress").get_by_text("equals live").wait_for()
            shoot(page, out, "15-admin")
            page.goto(f"{base}/#/admin/new")
            page.get_by_label("Project id").fill("street_signs")
            page.get_by_label("Name", exact=True).fill("Street signs")
            page.get_by_label("Type").select_option(label="Bounding boxes")
            names = page.get_by_label("Tag name")
            names.nth(0).fill("stop")
            names.nth(1).fill("yield")
            shoot(page, out, "16-admin-new-project")
            page.goto(f"{base}/#/admin/p/digits")
            page.get_by_role("heading", name="Progress per labeler").wait_for()
            shoot(page, out, "17-admin-project")
            page.goto(f"{base}/#/admin/p/scans")
            page.get_by_role("heading", name="CT, MR and X-ray").wait_for()
            page.locator(".card", has=page.get_by_role("heading", name="Export labels")).evaluate(
                "card => window.scrollTo(0, card.getBoundingClientRect().top + scrollY - 70)"
            )
            page.get_by_label("Export format").select_option("coco")
            shoot(page, out, "18-admin-export")
            page.goto(f"{base}/#/account")
            page.get_by_role("heading", name="Your account").wait_for()
            shoot(page, out, "19-account")
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
