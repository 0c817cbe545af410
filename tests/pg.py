"""A real PostgreSQL server for the tests, started by the tests themselves.

`server()` starts one on first use (initdb into a temp dir, as the `postgres` user when run as
root; pg_ctl on a free 127.0.0.1 port, the socket in that dir, fsync off) and returns it on
every later call. The session fixture `postgres_session`, imported by the conftests of the
tests that use the server, stops it when the session ends (autouse: free when unused). Missing
binaries fail the test that needs them, loudly: never a skip.

Tests isolate themselves by schema (`schema_dsn`) or by database (`database_dsn`). A test that
shuts its server down or changes its settings starts one of its own (`start()`), which it may
`halt` and `resume`.
"""

import glob
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

USER = "postgres"
START_ATTEMPTS = 3


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


@dataclass
class PostgresServer:
    """A running test server: where it listens and how to stop it."""

    bin_dir: Path
    root: Path
    port: int

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def dsn(self, database: str = "postgres", **settings: str) -> str:
        """A URL of this server; extra keywords become server settings (`search_path=...`)."""
        query = "&".join(f"{key}={value}" for key, value in settings.items())
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}" + (
            f"?{query}" if query else ""
        )

    def stop(self) -> None:
        _as_postgres(self.bin_dir / "pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def halt(self) -> None:
        """Shuts the server down as an operator would (sessions are ended); keeps its data."""
        _as_postgres(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"
        )

    def resume(self) -> None:
        """Starts a halted server again, on the same port and data."""
        _pg_ctl_start(self.bin_dir, self.root, self.port)


def bin_dir() -> Path:
    """The newest PostgreSQL's binaries, or PostgresMissing saying how to install them."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    if not found:
        raise PostgresMissing(
            "PostgreSQL server binaries are not installed (/usr/lib/postgresql/*/bin/postgres):"
            " run scripts/install-test-deps, which installs Debian's postgresql package"
        )
    return Path(found[-1]).parent


def _as_postgres(*command: str) -> str:
    # initdb refuses root: as root, run the server as `postgres`; otherwise as ourselves.
    prefix = ["runuser", "-u", USER, "--"] if os.geteuid() == 0 else []
    done = subprocess.run(
        [*prefix, *command],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start() -> PostgresServer:
    """initdb and start a throwaway server; raises PostgresMissing without binaries."""
    binaries = bin_dir()
    root = Path(tempfile.mkdtemp(prefix="annolog-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, USER, USER)
    data = root / "data"
    _as_postgres(
        str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", USER, "-E", "UTF8",
        "--no-sync", "--no-instructions",
    )  # fmt: skip
    for attempt in range(START_ATTEMPTS):
        port = _free_port()
        try:
            _pg_ctl_start(binaries, root, port)
        except RuntimeError:
            if attempt == START_ATTEMPTS - 1:  # another process took the port each time
                log = (root / "log").read_text() if (root / "log").exists() else ""
                shutil.rmtree(root, ignore_errors=True)
                raise RuntimeError(f"PostgreSQL did not start:\n{log}") from None
            continue
        return PostgresServer(binaries, root, port)
    raise AssertionError("unreachable")


def _pg_ctl_start(binaries: Path, root: Path, port: int) -> None:
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        " -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
    )
    _as_postgres(
        str(binaries / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "log"),
        "-o", options, "-w", "-t", "30", "start",
    )  # fmt: skip


_running: PostgresServer | None = None


def server() -> PostgresServer:
    """The session's server, started on first use; a missing install fails the test."""
    global _running
    if _running is None:
        try:
            _running = start()
        except PostgresMissing as exc:
            pytest.fail(str(exc), pytrace=False)
    return _running


def stop() -> None:
    global _running
    if _running is not None:
        running, _running = _running, None
        running.stop()


@pytest.fixture(scope="session", autouse=True)
def postgres_session() -> Iterator[None]:
    """Stops the server at the end of the session if a test started it (autouse: free if not)."""
    yield
    stop()


def schema_name(key: str) -> str:
    """A schema name for a test, stable for one key (a test's directory), so reopening works."""
    return "t_" + hashlib.sha1(key.encode()).hexdigest()[:20]


async def schema_dsn(key: str) -> str:
    """A URL whose search_path is a schema of its own for this key, made if missing."""
    running = server()
    schema = schema_name(key)
    conn = await asyncpg.connect(running.dsn())
    try:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    finally:
        await conn.close()
    return running.dsn(search_path=schema)


async def database_dsn(name: str) -> str:
    """A URL of a fresh, empty database (dropped first if a previous run left it)."""
    running = server()
    conn = await asyncpg.connect(running.dsn())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return running.dsn(name)
