"""Fixtures of the server's integration tests: real uvicorn processes on 127.0.0.1, real clients.

Every test talks to `python -m uvicorn server.app:app` in a subprocess over real sockets, with
httpx for HTTP and the `websockets` package for the websocket. The users are seeded once per
run with the CLI into a template database, signed in once each, and given API tokens; each
server starts on its own copy of that file, so a test signs in with a token and pays no
argon2 hash. A server can be stopped (SIGTERM), killed (SIGKILL) and started again on the
same files and port.

The tests import the helpers below from this module (`from tests.server.conftest import ...`).
"""

import asyncio
import contextlib
import io
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server.auth.sqlite_users import SQLiteUserStore

# name -> global admin?  padmin is made a project admin by the tests; olga joins no project.
USERS = {
    "admin": True,
    "padmin": False,
    "ann": False,
    "bob": False,
    "carl": False,
    "rita": False,
    "audrey": False,
    "olga": False,
}
# Extra API tokens (each one a session of its own) for the tests that need many clients.
EXTRA_TOKENS = {"ann": 40, "bob": 35, "carl": 35}
SECRET_KEY = "integration-tests-secret-key-0123456789"
READY_SECONDS = 20.0
BASE_ENV = {
    "ANNOLOG_REAPER_INTERVAL": "0.2",
    "ANNOLOG_SECRET_KEY": SECRET_KEY,
    "OPENBLAS_NUM_THREADS": "1",
    "PYTHONUNBUFFERED": "1",
}


def password_of(user: str) -> str:
    return f"{user}-test-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def new_id() -> str:
    return uuid.uuid4().hex


class Server:
    """One uvicorn process serving the app on a database and media folder of its own."""

    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.db = root / "log.db"
        self.media = root / "media"
        self.port = free_port()
        self.env = {
            **os.environ,
            **BASE_ENV,
            "ANNOLOG_DATABASE": str(self.db),
            "ANNOLOG_MEDIA_DIR": str(self.media),
            **(env or {}),
        }
        self.log_path = root / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: io.BufferedWriter | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def _spawn(self) -> None:
        assert self.process is None, "the server is already running"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed when the process ends
        self._log.write(f"--- start {self.starts} ---\n".encode())
        self._log.flush()
        self.starts += 1
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "server.app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--ws",
                "websockets-sansio",
                "--ws-per-message-deflate",
                "false",
                "--log-level",
                "warning",
            ],
            cwd=self.root,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def _check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            self._reap()
            raise RuntimeError(f"the server exited while starting:\n{self.log_tail()}")

    def start(self) -> None:
        """Starts the server and returns once it answers (blocking: for fixtures)."""
        self._spawn()
        deadline = time.monotonic() + READY_SECONDS
        with httpx.Client(base_url=self.url, timeout=1.0) as http:
            while time.monotonic() < deadline:
                self._check_alive()
                with contextlib.suppress(httpx.TransportError):
                    if http.get("/openapi.json").status_code == 200:
                        return
                time.sleep(0.05)
        raise RuntimeError(f"the server did not answer in {READY_SECONDS} s:\n{self.log_tail()}")

    async def astart(self) -> None:
        """Starts the server and returns once it answers, without blocking the event loop."""
        self._spawn()
        deadline = time.monotonic() + READY_SECONDS
        async with httpx.AsyncClient(base_url=self.url, timeout=1.0) as http:
            while time.monotonic() < deadline:
                self._check_alive()
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/openapi.json")).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        raise RuntimeError(f"the server did not answer in {READY_SECONDS} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """A graceful stop (SIGTERM): the lifespan saves its checkpoint and closes the store."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reap()

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        self._reap()

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

    async def restart(self, *, kill: bool = False) -> None:
        if kill:
            self.kill()
        else:
            await self.astop()
        await self.astart()

    def _reap(self) -> None:
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def assert_clean_log(self) -> None:
        """The server logged no exception (an unexpected error is a bug even if answered)."""
        text = self.log_text()
        assert "Traceback" not in text, f"the server logged an exception:\n{self.log_tail(120)}"


def _seed_template(root: Path) -> dict[str, list[str]]:
    """Users added with the CLI, then API tokens for each."""
    root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **BASE_ENV}

    def add(user: str) -> "subprocess.Popen[bytes]":
        args = ["--db", str(root / "log.db"), "user", "add", user, "--password"]
        args += [password_of(user), *(["--admin"] if USERS[user] else [])]
        return subprocess.Popen(
            [sys.executable, "-c", "from server.cli import main; raise SystemExit(main())", *args],
            env=env,
            cwd=root,
            stdout=subprocess.DEVNULL,
        )

    # The first one makes the file (and its WAL mode); the rest may then write side by side.
    first, *rest = USERS
    assert add(first).wait() == 0
    assert [process.wait() for process in [add(user) for user in rest]] == [0] * len(rest)
    return asyncio.run(_make_tokens(root / "log.db"))


async def _make_tokens(path: Path) -> dict[str, list[str]]:
    """API tokens made with the user store itself: a token needs no password, so no hash."""
    users = await SQLiteUserStore.open(path)
    try:
        return {
            user: [
                (await users.create_token(user, f"t{index}"))[1]
                for index in range(1 + EXTRA_TOKENS.get(user, 0))
            ]
            for user in USERS
        }
    finally:
        await users.close()


class Template:
    """The seeded database every server of the run starts from."""

    def __init__(self, root: Path, tokens: dict[str, list[str]]) -> None:
        self.root = root
        self.tokens = tokens

    def copy_to(self, target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True)
        with (
            contextlib.closing(sqlite3.connect(self.root / "log.db")) as source,
            contextlib.closing(sqlite3.connect(target / "log.db")) as copy,
        ):
            source.backup(copy)


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    root = tmp_path_factory.mktemp("template")
    return Template(root, _seed_template(root))


ServerFactory = Callable[..., Server]


@contextlib.contextmanager
def _servers(template: Template, tmp: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    """A factory of servers on fresh copies of the template; all stopped at the end, and
    none may have logged an exception."""
    servers: list[Server] = []

    def make(**env: str) -> Server:
        root = tmp.mktemp("server")
        template.copy_to(root)
        server = Server(root, env)
        servers.append(server)
        server.start()
        return server

    try:
        yield make
    finally:
        for server in servers:
            server.stop()
    for server in servers:
        server.assert_clean_log()


@pytest.fixture
def make_server(
    template: Template, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerFactory]:
    """Servers of one test (for tests that restart, kill or configure them)."""
    with _servers(template, tmp_path_factory) as make:
        yield make


@pytest.fixture(scope="module")
def server(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server shared by the tests of a module; each test makes projects of its own."""
    with _servers(template, tmp_path_factory) as make:
        yield make()


@pytest.fixture(scope="session")
def tokens(template: Template) -> dict[str, list[str]]:
    return template.tokens


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


@pytest.fixture
async def clients(server: Server, tokens: dict[str, list[str]]) -> AsyncIterator[Clients]:
    async with http_client(server) as http:
        yield Clients(http, tokens)


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


class Socket:
    """A real websocket client: says hello, then records every frame the server sends."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.frames: list[dict[str, Any]] = []
        self.closed = False
        self.close_code: int | None = None
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(
        cls,
        server: Server,
        token: str | None,
        project: str,
        *,
        after: int = 0,
        watch: Iterable[str] = (),
        caught_up: bool = True,
        hello: bool = True,
    ) -> "Socket":
        """Connects, says hello (unless told not to) and waits until caught up (likewise)."""
        connection = await connect(server.ws_url, compression=None, open_timeout=10)
        socket_ = cls(connection)
        if not hello:
            return socket_
        message: dict[str, Any] = {"type": "hello", "project": project, "after": after}
        if token is not None:
            message["token"] = token
        if watch:
            message["watch"] = list(watch)
        await socket_.send(message)
        if caught_up:
            await socket_.wait(lambda f: f["type"] == "caught_up")
        return socket_

    async def _read(self) -> None:
        try:
            async for message in self.connection:
                self.frames.append(json.loads(message))
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            received = self.connection.protocol.close_rcvd
            self.close_code = None if received is None else received.code
            self.closed = True
            self._changed.set()

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        if isinstance(message, dict):
            message = json.dumps(message)
        await self.connection.send(message)

    async def wait(
        self, predicate: Callable[[dict[str, Any]], bool], start: int = 0, within: float = 10.0
    ) -> dict[str, Any]:
        """The first frame from index `start` on that matches (waiting for it to come)."""
        async with asyncio.timeout(within):
            index = start
            while True:
                while index < len(self.frames):
                    if predicate(self.frames[index]):
                        return self.frames[index]
                    index += 1
                if self.closed:
                    raise AssertionError(f"socket closed ({self.close_code}) before the frame came")
                self._changed.clear()
                await self._changed.wait()

    def mark(self) -> int:
        return len(self.frames)

    def of_type(self, kind: str, start: int = 0) -> list[dict[str, Any]]:
        return [f for f in self.frames[start:] if f["type"] == kind]

    def events(self) -> list[dict[str, Any]]:
        return [f["data"] for f in self.frames if f["type"] == "event"]

    async def request(self, message: dict[str, Any], within: float = 10.0) -> dict[str, Any]:
        """Sends a command with an id and returns its ack or reject."""
        message.setdefault("id", new_id())
        start = self.mark()
        await self.send(message)
        return await self.wait(
            lambda f: f["type"] in {"ack", "reject"} and f.get("id") == message["id"],
            start,
            within,
        )

    async def closing(self, within: float = 5.0) -> int | None:
        """Waits for the server to close the socket; returns the close code it sent."""
        await asyncio.wait_for(asyncio.shield(self._reader), within)
        return self.close_code

    async def close(self) -> None:
        await self.connection.close()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@pytest.fixture
async def sockets() -> AsyncIterator[list[Socket]]:
    """A list the test appends its sockets to; every one is closed after the test."""
    opened: list[Socket] = []
    yield opened
    for socket_ in opened:
        await socket_.close()
