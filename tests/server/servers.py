"""Real uvicorn processes for the server's integration tests, on copies of one seeded database.

Every test talks to `python -m uvicorn server.app:app` in a subprocess over real sockets. The
users are seeded once per run with the CLI into a template database and given API tokens;
each server starts on its own copy of that file, so a test signs in with a token and pays no
argon2 hash. A server can be stopped (SIGTERM), killed (SIGKILL) and started again on the
same files and port.
"""

import asyncio
import contextlib
import io
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

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


def seed_template(root: Path) -> dict[str, list[str]]:
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


ServerFactory = Callable[..., Server]


@contextlib.contextmanager
def running_servers(template: Template, tmp: pytest.TempPathFactory) -> Iterator[ServerFactory]:
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
