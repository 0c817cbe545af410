"""HTTP clients of the integration tests: one API token each, and the calls tests share."""

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from tests.server.servers import Server


def new_id() -> str:
    return uuid.uuid4().hex


class Api:
    """An HTTP client of one user (one API token, so one session), or anonymous."""

    def __init__(self, http: httpx.AsyncClient, token: str | None, name: str = "") -> None:
        self.http = http
        self.token = token
        self.name = name

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        found = {} if self.token is None else {"authorization": f"Bearer {self.token}"}
        return {**found, **(extra or {})}

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        return await self.http.request(method, path, headers=self.headers(headers), **kw)

    async def call(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        """The JSON answer of a request that must get `status`."""
        response = await self.request(method, path, **kw)
        assert response.status_code == status, (
            f"{self.name}: {method} {path} -> {response.status_code} {response.text[:2000]}"
        )
        return response.json()

    async def get(self, path: str, status: int = 200, **kw: Any) -> Any:
        return await self.call("GET", path, status, **kw)

    async def post(self, path: str, body: Any = None, status: int = 200, **kw: Any) -> Any:
        if body is not None:
            kw["json"] = body
        return await self.call("POST", path, status, **kw)

    # The labeler's calls.

    async def page(self, project: str, **body: Any) -> Any:
        return await self.post(f"/api/projects/{project}/page", body or None)

    async def gestures(
        self, project: str, item: str, *events: dict[str, Any], status: int = 200
    ) -> Any:
        batch = [{"event_id": new_id(), "event": event} for event in events]
        return await self.post(
            f"/api/projects/{project}/items/{item}/events", {"events": batch}, status
        )

    async def state(self, project: str, item: str) -> Any:
        return await self.get(f"/api/projects/{project}/items/{item}/state")

    async def submit(self, project: str, items: list[str] | None = None, status: int = 200) -> Any:
        return await self.post(
            f"/api/projects/{project}/submit", {"items": items} if items else None, status
        )

    async def last_seq(self) -> int:
        seq: int = (await self.get("/api/log", params={"limit": 1}))["last_seq"]
        return seq


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    """Returns once `check()` holds, polling; fails after `within` seconds."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"still not true after {within} s: {check}"
        await asyncio.sleep(0.05)


def tag(name: str) -> dict[str, Any]:
    return {"type": "annotation.tag_applied", "tag": name}


class Clients:
    """Makes Api clients by user name (and token index) on one shared httpx client."""

    def __init__(self, http: httpx.AsyncClient, tokens: dict[str, list[str]]) -> None:
        self.http = http
        self.tokens = tokens

    def __call__(self, user: str | None, index: int = 0) -> Api:
        if user is None:
            return Api(self.http, None, "anonymous")
        return Api(self.http, self.tokens[user][index], f"{user}#{index}")


def http_client(server: Server, connections: int = 20) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url,
        timeout=30,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


def jsonl(texts: Iterable[tuple[str, str]]) -> bytes:
    return b"".join(json.dumps({"id": i, "text": t}).encode() + b"\n" for i, t in texts)


async def make_project(
    admin: Api,
    project: str,
    project_type: str = "text_multiclass",
    *,
    items: int = 12,
    members: dict[str, str] | None = None,
    tags: Iterable[str] = ("a", "b", "c"),
    text: str = "the quick brown fox jumps over the lazy dog " * 3,
    **settings: Any,
) -> list[str]:
    """Creates a project with text items t000, t001, ... and members; returns the item ids."""
    colours = ["#ff0000", "#00ff00", "#0000ff", "#888800", "#008888", "#880088"]
    await admin.post(
        "/api/projects",
        {
            "project_id": project,
            "name": f"Project {project}",
            "project_type": project_type,
            "tags": [{"name": t, "colour": colours[i % 6]} for i, t in enumerate(tags)],
            **settings,
        },
        201,
    )
    default = {"ann": "labeler", "bob": "labeler", "carl": "labeler", "audrey": "auditor"}
    for user, role in (default if members is None else members).items():
        await admin.post(f"/api/projects/{project}/members", {"user": user, "role": role})
    ids = [f"t{i:03d}" for i in range(items)]
    if items:
        data = jsonl((i, f"{i}: {text}") for i in ids)
        answer = await admin.post(
            f"/api/projects/{project}/items",
            files={"files": ("items.jsonl", data, "application/x-ndjson")},
            status=201,
        )
        assert answer["imported"] == items, answer
    return ids


async def read_log(api: Api, project: str | None = None, after: int = 0) -> list[dict[str, Any]]:
    """Every event of the log after `after` (of one project if named), in seq order."""
    events: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"after": after, "limit": 1000}
        if project is not None:
            params["project"] = project
        page = await api.get("/api/log", params=params)
        events += page["events"]
        if page["next_after"] <= after or page["next_after"] >= page["last_seq"]:
            return events
        after = page["next_after"]
