"""Users for the benchmarks, made once per run and copied into each measured run.

The admin is added with `annolog user add`, the rest with POST /api/users; each signs in once
and makes an API token. An argon2 hash costs ~0.3 s, so every measured run starts from a copy
of that file and hashing is never in the measured loop.
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lean_clients import Http, HttpError
from server_process import REPO, Server

PASSWORD = "bench-password-1"


@dataclass
class Accounts:
    """A SQLite file holding users with their API tokens, to copy for each run."""

    path: Path
    admin: str
    tokens: dict[str, str] = field(default_factory=dict)


def add_admin_with_cli(database: Path) -> None:
    """`annolog --db FILE user add admin --admin --password P`."""
    annolog = shutil.which("annolog")
    command = (
        [annolog] if annolog else [sys.executable, "-c", "from server.cli import main; main()"]
    )
    subprocess.run(
        [
            *command,
            "--db",
            str(database),
            "user",
            "add",
            "admin",
            "--admin",
            "--password",
            PASSWORD,
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
        stdout=subprocess.DEVNULL,
    )


async def token_for(port: int, username: str) -> str:
    """Signs in with the password (one argon2 verify), then makes an API token."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def answer() -> tuple[bytes, Any]:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        body = await reader.readexactly(length)
        if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.1 201")):
            raise HttpError(int(head[9:12]), body, f"signing in {username}")
        return head, json.loads(body)

    try:
        body = json.dumps({"username": username, "password": PASSWORD}).encode()
        writer.write(
            b"POST /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        head, signed_in = await answer()
        cookie = next(
            line.split(b":", 1)[1].split(b";")[0].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"set-cookie:")
        )
        body = json.dumps({"label": "bench"}).encode()
        writer.write(
            b"POST /api/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Cookie: %s\r\nX-CSRF-Token: %s\r\nContent-Length: %d\r\n\r\n%s"
            % (cookie, signed_in["csrf_token"].encode(), len(body), body)
        )
        _, made = await answer()
        token: str = made["token"]
        return token
    finally:
        writer.close()


async def make_accounts(directory: Path, usernames: Sequence[str]) -> Accounts:
    """An admin (by the CLI) and these users (by the API), each with an API token."""
    path = directory / "accounts.db"
    add_admin_with_cli(path)
    server = Server(path)
    await server.start()
    try:
        admin = await token_for(server.port, "admin")
        pending = list(usernames)
        tokens: dict[str, str] = {}

        async def worker() -> None:
            # Two at a time: the server hashes in two slots, each argon2 hash uses 4 lanes.
            http = await Http.connect(server.port, admin)
            while pending:
                name = pending.pop()
                await http.call(
                    "POST", "/api/users", {"username": name, "password": PASSWORD}, ok=201
                )
                tokens[name] = await token_for(server.port, name)
            http.close()

        await asyncio.gather(worker(), worker())
    finally:
        server.stop()
    return Accounts(path, admin, tokens)


def copy_accounts(accounts: Accounts, directory: Path) -> Path:
    """A fresh database for one run: the accounts' file copied (its log is empty)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "annolog.db"
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{accounts.path}{suffix}")
        if source.exists():
            shutil.copyfile(source, f"{target}{suffix}")
    return target
