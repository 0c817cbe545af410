"""Fixtures of the export tests: one in-process app (memory store) driven by the real
TestClient, users with API tokens, and helpers that build projects and labels through the
API as an admin and labelers would.

The app lives for the whole session (users are hashed once); every test makes projects of
its own, named by the `harness.project` counter, so tests never see each other's data.
"""

import io
import itertools
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its TestClient and warns (once, on import) that httpx
    # is deprecated there; httpx is what the project installs, and works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from server.app import create_app
from server.services import Services
from server.settings import Settings

USERS = {"admin": True, "ann": False, "bob": False, "cid": False}
TAGS = [
    {"name": "cat", "colour": "#ff0000"},
    {"name": "dog", "colour": "#00ff00"},
    {"name": "Zoë's bird", "colour": "#0000ff"},
]


def png(width: int, height: int, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


def gesture(event: dict[str, Any]) -> dict[str, Any]:
    return {"event_id": uuid.uuid4().hex, "event": event}


@dataclass
class Harness:
    client: TestClient
    services: Services
    tokens: dict[str, str]
    counter: Iterator[int] = field(default_factory=itertools.count)

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, path: str, user: str = "admin", **params: Any) -> Any:
        response = self.client.get(path, headers=self.headers(user), params=params)
        assert response.status_code == 200, response.text
        return response

    def post(self, path: str, user: str = "admin", expect: int = 200, **kwargs: Any) -> Any:
        response = self.client.post(path, headers=self.headers(user), **kwargs)
        assert response.status_code == expect, response.text
        return response.json()

    def project(
        self,
        project_type: str,
        tags: list[dict[str, Any]] | None = None,
        overlap: int = 1,
        members: tuple[str, ...] = ("ann", "bob", "cid"),
    ) -> str:
        project_id = f"{project_type[:12]}_{next(self.counter)}"
        self.post(
            "/api/projects",
            json={
                "project_id": project_id,
                "name": f"Ünïcode {project_type}",
                "project_type": project_type,
                "tags": tags or TAGS,
                "overlap": overlap,
                "page_size": 50,
            },
            expect=201,
        )
        for member in members:
            self.post(
                f"/api/projects/{project_id}/members", json={"user": member, "role": "labeler"}
            )
        return project_id

    def upload(self, project: str, files: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
        """Uploads each file (an image, a text file, an archive); the project's items."""
        for name, data in files:
            response = self.client.post(
                f"/api/projects/{project}/items",
                headers=self.headers("admin"),
                params={"filename": name},
                content=data,
            )
            assert response.status_code in {200, 201}, response.text
            assert not response.json()["errors"], response.text
        listed = self.get(f"/api/projects/{project}/items", limit=1000).json()
        return [entry["item"] for entry in listed["items"]]

    def label(
        self,
        project: str,
        user: str,
        gestures: dict[str, list[dict[str, Any]]],
        submit: bool = True,
    ) -> None:
        """The user takes a page, draws each item's gestures and submits those items."""
        page = self.post(f"/api/projects/{project}/page", user, json={"page_size": 100})
        for item in gestures:
            assert item in page["items"], f"{item} is not on {user}'s page {page['items']}"
        for item, events in gestures.items():
            if not events:
                continue
            self.post(
                f"/api/projects/{project}/items/{item}/events",
                user,
                json={"events": [gesture(e) for e in events]},
            )
        if submit:
            self.post(f"/api/projects/{project}/submit", user, json={"items": list(gestures)})

    def export(self, project: str, fmt: str, user: str = "admin", **params: Any) -> bytes:
        response = self.client.get(
            f"/api/projects/{project}/export",
            headers=self.headers(user),
            params={"format": fmt, **params},
        )
        assert response.status_code == 200, response.text
        return response.content

    def import_labels(
        self, project: str, fmt: str, data: bytes, expect: int = 200, name: str = "labels"
    ) -> dict[str, Any]:
        response = self.client.post(
            f"/api/projects/{project}/labels",
            headers=self.headers("admin"),
            params={"format": fmt, "filename": name},
            content=data,
        )
        assert response.status_code == expect, response.text
        result: dict[str, Any] = response.json()
        return result

    def call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """Runs an async function on the app's event loop."""
        assert self.client.portal is not None
        return self.client.portal.call(partial(function, *args, **kwargs))

    def log_length(self) -> int:
        last: int = self.call(self.services.store.last_seq)
        return last


@pytest.fixture(scope="session")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    root: Path = tmp_path_factory.mktemp("export")
    settings = Settings(
        database=":memory:",
        memory_store=True,
        media_dir=root / "media",
        secret_key=b"k" * 32,
        reaper_interval=3600.0,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        found: Services = app.state.services
        tokens: dict[str, str] = {}
        portal = client.portal
        assert portal is not None
        for user, admin in USERS.items():
            portal.call(partial(found.users.add_user, user, f"{user}-password", is_admin=admin))
            _, secret = portal.call(found.users.create_token, user, "export tests")
            tokens[user] = secret
        yield Harness(client, found, tokens)
