"""Browser client benchmark (Playwright + Debian's chromium, software rendering).

Starts `annolog demo` in a temp dir, then measures in a real page:
  regions   the editor's full redraw of an image holding N boxes (median ms per frame, each
            flushed with a one-pixel read), against a naive baseline that fills and strokes
            each box on its own; target <= 16 ms at 2,000 boxes;
  window    window/level while dragging on a 512×512 CT slice: per frame a new lookup table
            over the sample range, one pass over the pixels, putImageData and the redraw
            (median ms, as frames per second), against windowing each pixel in float without
            the table; and a real mouse drag through Playwright: distinct windows shown per
            second. Target >= 30 fps.

    python bench/client.py                 # 2,000 boxes, 100 frames
    python bench/client.py --boxes 5000 --frames 200
"""

import argparse
import io
import random
import sys
import tempfile
import time
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
import pydicom
from PIL import Image
from playwright.sync_api import Page, sync_playwright

# The Chromium and demo server setup is scripts/chromium.py, shared with the screenshots script
# and the browser tests; `python bench/client.py` puts only bench/ on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from chromium import CHROMIUM, NOT_INSTALLED, VIEWPORT, demo_server, launch_options

CT_FILE = "693_UNCI.dcm"  # CT, 512×512, signed, from pydicom-data


def ct_slice() -> tuple[str, bytes]:
    directories = [Path(pydicom.__file__).parent / "data" / "test_files"]
    for entry in entry_points(group="pydicom.data.external_sources"):
        directories.append(Path(entry.load()().data_path))
    for directory in directories:
        if (directory / CT_FILE).is_file():
            return CT_FILE, (directory / CT_FILE).read_bytes()
    raise SystemExit(f"{CT_FILE} not found: pip install pydicom-data")


class Api:
    def __init__(self, base: str, user: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=60)
        answer = self.client.post(
            "/api/session", json={"username": user, "password": f"{user}-demo-password"}
        )
        answer.raise_for_status()
        self.headers = {"x-csrf-token": answer.json()["csrf_token"]}

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        answer = self.client.post(path, json=body, headers=self.headers, **kwargs)
        answer.raise_for_status()
        return answer.json()


def make_project(admin: Api, project_id: str, files: list[tuple[str, bytes]]) -> None:
    tags = [
        {"name": n, "colour": c, "key": i + 1}
        for i, (n, c) in enumerate([("car", "#e6194b"), ("person", "#3cb44b"), ("sign", "#4363d8")])
    ]
    admin.post(
        "/api/projects",
        {
            "project_id": project_id,
            "name": project_id,
            "project_type": "bounding_boxes",
            "tags": tags,
            "page_size": 1,
        },
    )
    admin.post(f"/api/projects/{project_id}/members", {"user": "ann", "role": "labeler"})
    admin.client.post(
        f"/api/projects/{project_id}/items",
        files=[("files", f) for f in files],
        headers=admin.headers,
    ).raise_for_status()


def add_boxes(ann: Api, project_id: str, count: int, width: int, height: int) -> None:
    item = ann.post(f"/api/projects/{project_id}/page", {})["items"][0]
    rng = random.Random(1)
    events = []
    for i in range(count):
        w, h = rng.uniform(8, 60), rng.uniform(8, 60)
        box = {
            "type": "annotation.box_drawn",
            "region_id": f"r{i}",
            "tag": rng.choice(["car", "person", "sign"]),
            "x": round(rng.uniform(0, width - w), 2),
            "y": round(rng.uniform(0, height - h), 2),
            "w": round(w, 2),
            "h": round(h, 2),
        }
        events.append({"event_id": f"bench-{project_id}-{i}", "event": box})
    for start in range(0, len(events), 1000):
        ann.post(
            f"/api/projects/{project_id}/items/{item}/events",
            {"events": events[start : start + 1000]},
        )


NAIVE_REDRAW = """(runs) => {
    const ed = window.annolog.view.view;
    const ctx = ed.ctx, times = [];
    const regions = [...ed.draft().regions.values()];
    for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, ed.canvas.width, ed.canvas.height);
        ctx.setTransform(ed.dpr, 0, 0, ed.dpr, 0, 0);
        ctx.drawImage(ed.base, ed.view.tx, ed.view.ty, ed.info.width * ed.view.scale,
                      ed.info.height * ed.view.scale);
        for (const r of regions) {
            ctx.beginPath();
            ctx.rect(r.x * ed.view.scale + ed.view.tx, r.y * ed.view.scale + ed.view.ty,
                     r.w * ed.view.scale, r.h * ed.view.scale);
            ctx.fillStyle = ed.s.colour(r.tag) + "29";
            ctx.fill();
            ctx.strokeStyle = ed.s.colour(r.tag);
            ctx.lineWidth = 2;
            ctx.stroke();
        }
        ctx.getImageData(0, 0, 1, 1);
        times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
}"""

WINDOW_FRAMES = """([frames, direct]) => {
    const ed = window.annolog.view.view, d = ed.dicom;
    const start = { ...d.window }, times = [];
    for (let i = 0; i < frames; i++) {
        const t0 = performance.now();
        const w = { ...start, center: start.center + (i % 40) * 3, width: start.width + i * 2,
                    function: "LINEAR", lut: undefined };
        if (direct) {
            d.window = w;
            d.integer = false;
            d.apply(w);
            d.integer = true;
        } else {
            d.apply(w);
        }
        ed.draw();
        ed.ctx.getImageData(0, 0, 1, 1);
        times.push(performance.now() - t0);
    }
    d.apply(start);
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
}"""


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/#/signin")
    page.get_by_label("Username").fill("ann")
    page.get_by_label("Password").fill("ann-demo-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Projects").wait_for()


def open_item(page: Page, base: str, project_id: str) -> None:
    page.goto(f"{base}/#/p/{project_id}/label")
    page.locator("canvas.stage[data-ready=true]").wait_for()
    page.wait_for_timeout(300)


def real_drag(page: Page, seconds: float = 2.0) -> tuple[float, float]:
    """Distinct windows displayed per second while the mouse drags (W tool), and mouse moves
    sent per second (Playwright's input round trips bound the first)."""
    page.keyboard.press("w")
    page.evaluate(
        """() => { window.__shown = 0; let last = '';
        const tick = () => { const d = window.annolog.view.view.dicom; const now = d.describe();
            if (now !== last) { window.__shown++; last = now; }
            if (window.__tick !== false) requestAnimationFrame(tick); };
        window.__tick = true; requestAnimationFrame(tick); }"""
    )
    box = page.locator("canvas.stage").bounding_box()
    assert box is not None
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    started = time.perf_counter()
    step = 0
    page.evaluate("() => { window.__shown = 0; }")
    while time.perf_counter() - started < seconds:
        step += 1
        page.mouse.move(x0 + (step % 200) - 100, y0 + ((step * 3) % 160) - 80)
    elapsed = time.perf_counter() - started
    shown = page.evaluate("() => { window.__tick = false; return window.__shown; }")
    page.mouse.up()
    return float(shown) / elapsed, step / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--boxes", type=int, default=2000)
    parser.add_argument("--frames", type=int, default=100)
    args = parser.parse_args()
    if CHROMIUM is None:
        raise SystemExit(NOT_INSTALLED)
    root = Path(tempfile.mkdtemp(prefix="annolog-bench-client-"))
    with demo_server(root) as base:
        admin, ann = Api(base, "admin"), Api(base, "ann")
        scene = io.BytesIO()
        Image.new("RGB", (1280, 960), (200, 205, 210)).save(scene, format="PNG")
        make_project(admin, "bench_boxes", [("street.png", scene.getvalue())])
        add_boxes(ann, "bench_boxes", args.boxes, 1280, 960)
        # Signing out releases the item; the browser's session takes it with ann's draft.
        ann.client.delete("/api/session", headers=ann.headers).raise_for_status()
        make_project(admin, "bench_ct", [ct_slice()])
        with sync_playwright() as p:
            browser = p.chromium.launch(**launch_options())
            page = browser.new_page(viewport=VIEWPORT)
            sign_in(page, base)
            open_item(page, base, "bench_boxes")
            shown = page.evaluate("() => window.annolog.view.view.draft().regions.size")
            batched = page.evaluate(f"() => window.annolog.view.view.measureRedraw({args.frames})")
            naive = page.evaluate(NAIVE_REDRAW, args.frames)
            open_item(page, base, "bench_ct")
            size = page.evaluate("() => window.annolog.view.view.dicom.canvas.width")
            lut = page.evaluate(WINDOW_FRAMES, [args.frames, False])
            direct = page.evaluate(WINDOW_FRAMES, [args.frames, True])
            dragged, moves = real_drag(page)
            browser.close()
    print(f"Chromium {CHROMIUM}, software rendering (--disable-gpu), medians of {args.frames}")
    print(f"regions: redraw of {shown} boxes         {batched:7.2f} ms   (target <= 16 ms)")
    print(
        f"         naive, one path per box      {naive:7.2f} ms   "
        f"(batched is {naive / batched:.1f}x faster)"
    )
    print(
        f"window:  {size}×{size} CT, table + redraw   {lut:7.2f} ms = {1000 / lut:6.1f} fps "
        "(target >= 30 fps)"
    )
    print(
        f"         float per pixel, no table    {direct:7.2f} ms = {1000 / direct:6.1f} fps "
        f"(table is {direct / lut:.1f}x faster)"
    )
    print(
        f"         real mouse drag: {dragged:.1f} windows shown per second for {moves:.1f} "
        "mouse moves per second (input-bound)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
