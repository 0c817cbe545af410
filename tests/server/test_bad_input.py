"""Bad input at the running server: every refusal is a 4xx with a JSON error that names the
problem, never a 5xx, and a refused request leaves the log as it was.

A hypothesis test fires random commands of every kind (random JSON, wrong types, unknown event
types, huge bodies, bad paths, events for items not on the caller's page, malformed multipart,
archives with `..` names, a text file named .dcm, truncated PNGs); explicit tests pin the
413s of oversized bodies and uploads.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.bad_input_commands import COMMANDS, MAX_BODY, MAX_UPLOAD, Command, big_json
from tests.server.clients import jsonl
from tests.server.servers import Server, Template, running_servers

LIMITS = {"ANNOLOG_MAX_BODY_BYTES": str(MAX_BODY), "ANNOLOG_MAX_UPLOAD_BYTES": str(MAX_UPLOAD)}
FUZZ_SECONDS = 60


@dataclass
class Target:
    """A server with a project `fuzz` (text, multi-class) where ann holds t000 and t001."""

    server: Server
    http: httpx.Client
    tokens: dict[str, str]
    commands: int = 0
    refused: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        if who == "anonymous":
            return {}
        if who == "garbage":
            return {"authorization": "Bearer tok_0123_not-a-token"}
        return {"authorization": f"Bearer {self.tokens[who]}"}

    def last_seq(self) -> int:
        answer = self.http.get("/api/log", params={"limit": 1}, headers=self.headers("admin"))
        assert answer.status_code == 200, answer.text
        seq: int = answer.json()["last_seq"]
        return seq


def _setup(server: Server, tokens: dict[str, list[str]]) -> Target:
    http = httpx.Client(base_url=server.url, timeout=30)
    target = Target(server, http, {u: tokens[u][0] for u in ("admin", "ann", "audrey")})
    admin = target.headers("admin")

    def ok(response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    body = {
        "project_id": "fuzz",
        "name": "Fuzz",
        "project_type": "text_multiclass",
        "tags": [{"name": t, "colour": "#123456"} for t in "abc"],
        "page_size": 2,
    }
    ok(http.post("/api/projects", json=body, headers=admin), 201)
    for user, role in (("ann", "labeler"), ("audrey", "auditor")):
        ok(
            http.post(
                "/api/projects/fuzz/members", json={"user": user, "role": role}, headers=admin
            )
        )
    data = jsonl((f"t{i:03d}", f"text number {i}") for i in range(10))
    files = {"files": ("items.jsonl", data)}
    ok(http.post("/api/projects/fuzz/items", files=files, headers=admin), 201)
    page = ok(http.post("/api/projects/fuzz/page", headers=target.headers("ann")))
    assert page["items"] == ["t000", "t001"]
    return target


@pytest.fixture(scope="module")
def target(
    template: Template, tmp_path_factory: pytest.TempPathFactory, tokens: dict[str, list[str]]
) -> Iterator[Target]:
    with running_servers(template, tmp_path_factory) as make:
        found = _setup(make(**LIMITS), tokens)
        yield found
        found.http.close()


def fire(target: Target, command: Command) -> None:
    before = target.last_seq()
    content: Any = big_json(command.huge) if command.huge else command.content
    if command.chunked and content is not None:
        data = content
        content = iter([data[i : i + 8192] for i in range(0, len(data), 8192)])
    response = target.http.request(
        command.method,
        command.path,
        content=content,
        params=command.params,
        headers={**command.headers, **target.headers(command.who)},
    )
    status = response.status_code
    target.commands += 1
    target.statuses[status] = target.statuses.get(status, 0) + 1
    assert status < 500, f"{command!r} -> {status} {response.text[:500]}"
    if command.status is not None:
        assert status in command.status, f"{command!r} -> {status} {response.text[:500]}"
    if status < 400:
        return
    target.refused += 1
    assert response.headers["content-type"].startswith("application/json"), command
    body = response.json()
    if "error" in body:
        error = body["error"]
        assert isinstance(error["code"], str), body
        assert error["code"], body
        assert isinstance(error["message"], str), body
        assert error["message"].strip(), body
        assert isinstance(error.get("field", ""), str), body
        if command.code is not None:
            assert error["code"] == command.code, (command, body)
    else:  # an import's report: each refused file named with its reason
        assert body["imported"] == 0, body
        assert body["errors"], body
        for entry in body["errors"]:
            assert entry["name"], body
            assert entry["message"], body
    assert target.last_seq() == before, f"{command!r} was refused, yet the log grew"


def test_random_commands_never_break_the_server(target: Target) -> None:
    started = time.monotonic()

    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(st.lists(COMMANDS, min_size=1, max_size=16))
    def run(commands: list[Command]) -> None:
        for command in commands:
            fire(target, command)

    run()
    elapsed = time.monotonic() - started
    assert target.commands >= 1200, target.commands
    assert target.refused >= 900, target.statuses
    assert elapsed < FUZZ_SECONDS, f"{target.commands} commands took {elapsed:.0f} s"
    # The page of ann was never lost to the noise (nothing signs her out): still t000, t001.
    page = target.http.get("/api/projects/fuzz/page", headers=target.headers("ann"))
    assert page.json()["items"] in (["t000", "t001"], []), page.text


def test_oversized_bodies_and_uploads_get_413(target: Target) -> None:
    cases = [
        huge(target, "/api/projects/fuzz/items/t000/events", MAX_BODY + 1, chunked=False),
        huge(target, "/api/projects/fuzz/items/t000/events", 3 * MAX_BODY, chunked=True),
        huge(target, "/api/projects", MAX_BODY * 2, chunked=False),
    ]
    for response in cases:
        assert response.status_code == 413, response.text
        error = response.json()["error"]
        assert error["code"] == "payload_too_large"
        assert str(MAX_BODY) in error["message"]
    before = target.last_seq()
    big = b"x" * (MAX_UPLOAD + 10)
    multipart = target.http.post(
        "/api/projects/fuzz/items",
        files={"files": ("big.txt", big)},
        headers=target.headers("admin"),
    )
    assert multipart.status_code == 413, multipart.text
    assert multipart.json()["error"]["field"] == "files"

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 16384):
            yield big[start : start + 16384]

    raw = target.http.post(
        "/api/projects/fuzz/items",
        params={"filename": "big.txt"},
        content=chunks(),
        headers=target.headers("admin"),
    )
    assert raw.status_code == 413, raw.text
    assert raw.json()["error"]["code"] == "payload_too_large"
    assert target.last_seq() == before


def huge(target: Target, path: str, size: int, chunked: bool) -> httpx.Response:
    body = big_json(size)
    content: Any = body
    if chunked:
        content = iter([body[i : i + 8192] for i in range(0, len(body), 8192)])
    before = target.last_seq()
    response = target.http.post(
        path,
        content=content,
        headers={"content-type": "application/json", **target.headers("admin")},
    )
    assert target.last_seq() == before
    return response
