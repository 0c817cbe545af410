"""Real Chromium against a real annolog server: the demo, seeded into a temp dir, on a free port.

Tests act as a person would (mouse, keys, roles and labels) and then read what the server
recorded through the HTTP API (`Api`), never through the page's own state alone.
"""

import io
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from scripts.chromium import CHROMIUM, NOT_INSTALLED, VIEWPORT, demo_server, launch_options


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps its event loop running in the main
    thread until the session ends, and pytest-asyncio cannot start a loop after that."""
    browser = [item for item in items if "browser" in item.keywords]
    if browser and CHROMIUM is None:
        # Failing, not skipping: a skip would hide a missing install step in CI.
        raise pytest.UsageError(NOT_INSTALLED)
    items[:] = [item for item in items if "browser" not in item.keywords] + browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, **launch_options()}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": VIEWPORT}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`annolog demo` on 127.0.0.1 in a temp dir; heartbeats renew leases every 2 s."""
    root = tmp_path_factory.mktemp("annolog-browser")
    env = {
        "ANNOLOG_RENEWAL_RECORD_SECONDS": "2",
        "ANNOLOG_LEASE_WARNING_SECONDS": "5",
        "OPENBLAS_NUM_THREADS": "1",
    }
    with demo_server(root, env, within=90) as base:
        yield base


@pytest.fixture(scope="session")
def base_url(server: str) -> str:
    return server


class Api:
    """The HTTP API as one user, to arrange data and to check what the log holds."""

    def __init__(self, base: str, user: str, password: str | None = None) -> None:
        self.client = httpx.Client(base_url=base, timeout=30)
        answer = self.client.post(
            "/api/session", json={"username": user, "password": password or f"{user}-demo-password"}
        )
        answer.raise_for_status()
        self.csrf = answer.json()["csrf_token"]
        self.user = user

    def get(self, path: str) -> Any:
        answer = self.client.get(path)
        answer.raise_for_status()
        return answer.json()

    def send(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.client.request(method, path, headers={"x-csrf-token": self.csrf}, **kwargs)
        assert answer.status_code < 400, answer.text
        return answer.json()

    def post(self, path: str, body: Any = None) -> Any:
        return self.send("POST", path, json=body)

    def log(self, project: str, kind: str | None = None, actor: str | None = None) -> list[Any]:
        """Every recorded event of a project (of one type / actor), oldest first."""
        events: list[Any] = []
        after = 0
        while True:
            query = f"/api/log?project={project}&after={after}&limit=1000"
            query += f"&type={kind}" if kind else ""
            query += f"&actor={actor}" if actor else ""
            page = self.get(query)
            events += page["events"]
            if not page["events"] or page["next_after"] >= page["last_seq"]:
                return events
            after = page["next_after"]

    def close(self) -> None:
        self.client.close()


@pytest.fixture(scope="session")
def admin_api(server: str) -> Iterator[Api]:
    api = Api(server, "admin")
    yield api
    api.close()


def png(width: int, height: int, seed: int = 0) -> bytes:
    """A small scene with a shape, so that images differ."""
    image = Image.new("RGB", (width, height), (235, 235, 228))
    draw = ImageDraw.Draw(image)
    x = 10 + (seed * 37) % max(1, width - 60)
    draw.ellipse((x, 20, x + 40, 60), fill=(220, 50, 47))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


_made = iter(range(1_000_000))


def make_project(
    api: Api,
    project_type: str,
    tags: list[str],
    files: list[tuple[str, bytes]],
    *,
    members: tuple[tuple[str, str], ...] = (("ann", "labeler"), ("bob", "labeler")),
    **settings: Any,
) -> str:
    """Creates a project with items through the API; returns its id."""
    project_id = f"t{os.getpid() % 10_000}_{int(time.time() * 1000) % 1_000_000}_{next(_made)}"
    palette = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4"]
    api.post(
        "/api/projects",
        {
            "project_id": project_id,
            "name": settings.pop("name", f"Test {project_type}"),
            "project_type": project_type,
            "tags": [
                {"name": t, "colour": palette[i % len(palette)], "key": i + 1 if i < 9 else None}
                for i, t in enumerate(tags)
            ],
            **settings,
        },
    )
    for user, role in members:
        api.post(f"/api/projects/{project_id}/members", {"user": user, "role": role})
    api.send(
        "POST",
        f"/api/projects/{project_id}/items",
        files=[("files", (name, data)) for name, data in files],
    )
    return project_id


def sign_in(page: Page, user: str, hash_route: str = "#/") -> None:
    page.goto("/#/signin")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(f"{user}-demo-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
    if hash_route != "#/":
        page.goto(f"/{hash_route}")


def open_labeling(page: Page, user: str, project: str) -> None:
    sign_in(page, user, f"#/p/{project}/label")
    expect(page.get_by_role("button", name="Submit")).to_be_visible()
    # The type's view (grid, editor, text) is loaded after the footer: wait for it too.
    page.wait_for_function(
        "p => { const v = window.annolog.view; return v?.projectId === p"
        " && (v.view !== null || v.page.items.length === 0); }",
        arg=project,
    )


def wait_saved(page: Page) -> None:
    """Until every gesture made is acknowledged by the server."""
    expect(page.get_by_role("status").filter(has_text="All changes saved")).to_be_visible()


def stage_ready(page: Page) -> None:
    expect(page.locator("canvas.stage[data-ready=true]")).to_be_visible()


def image_to_screen(page: Page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of image pixel (x, y) on the editor's canvas."""
    point = page.evaluate(
        "([x, y]) => { const ed = window.annolog.view.view; const r = ed.canvas"
        ".getBoundingClientRect(); return [r.left + x * ed.view.scale + ed.view.tx,"
        " r.top + y * ed.view.scale + ed.view.ty]; }",
        [x, y],
    )
    return point[0], point[1]


def drag(page: Page, start: tuple[float, float], end: tuple[float, float], steps: int = 8) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=steps)
    page.mouse.up()
