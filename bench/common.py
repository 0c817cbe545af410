"""What the server benchmarks share: a real uvicorn process, lean clients, setup, figures.

The load runs in one process on asyncio with hand-written HTTP/1.1 and websocket clients
(keep-alive, one connection per simulated person): httpx or the websockets client cost
about as much CPU per message as the server does, and on a 2-core machine that CPU is taken
from the server being measured. Both sides' CPU time is reported.

Users are made once per benchmark run (`annolog user add` for the admin, POST /api/users
for the rest, then each signs in once and makes an API token), because an argon2 hash costs
~0.3 s; every measured run then starts from a copy of that file, so hashing is never in the
measured loop.
"""

import asyncio
import base64
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def send_queue(server_port: int, client_port: int) -> int | None:
    """Bytes the kernel holds, unsent or unacknowledged, on the server's side of a connection
    from `client_port` (from /proc/net/tcp), or None when there is no such socket."""
    wanted = f"0100007F:{server_port:04X} 0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if f"{fields[1]} {fields[2]}" == wanted:
            return int(fields[4].split(":")[0], 16)
    return None


def own_cpu() -> float:
    return time.process_time()


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def server_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "server.app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--ws",
        "websockets-sansio",
        "--ws-per-message-deflate",
        "false",
        "--log-level",
        "warning",
    ]


class Server:
    """A uvicorn process serving annolog on a SQLite file, on a free port of 127.0.0.1."""

    def __init__(self, database: Path, env: dict[str, str] | None = None) -> None:
        self.database = database
        self.port = free_port()
        self.env = {
            **os.environ,
            "ANNOLOG_DATABASE": str(database),
            "ANNOLOG_MEDIA_DIR": str(database.parent / "media"),
            "ANNOLOG_SECRET_KEY": "bench-secret-key-0123456789abcdef",
            "OPENBLAS_NUM_THREADS": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def launch(self) -> None:
        self.process = subprocess.Popen(server_command(self.port), cwd=REPO, env=self.env)

    async def start(self) -> None:
        """Launches uvicorn and waits until it answers."""
        self.launch()
        assert self.process is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {self.process.returncode}")
            try:
                http = await Http.connect(self.port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            status, _ = await http.request("GET", "/openapi.json")
            http.close()
            if status == 200:
                return
            await asyncio.sleep(0.1)
        raise RuntimeError("uvicorn did not start within 60 s")

    def stop(self) -> None:
        """A clean shutdown (SIGINT: the lifespan closes the store), killed after 20 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class HttpError(Exception):
    def __init__(self, status: int, body: bytes, what: str) -> None:
        super().__init__(f"{what}: HTTP {status}: {body[:300]!r}")
        self.status = status
        self.body = body


class Http(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request at a time; Content-Length bodies."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.headers = b""

    @classmethod
    async def connect(cls, port: int, token: str | None = None) -> "Http":
        loop = asyncio.get_running_loop()
        _, http = await loop.create_connection(cls, "127.0.0.1", port)
        http.transport.get_extra_info("socket").setsockopt(  # type: ignore[union-attr]
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
        )
        http.set_auth(token)
        return http

    def set_auth(self, token: str | None, extra: str = "") -> None:
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.headers = f"Host: 127.0.0.1\r\n{auth}{extra}".encode()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("the server closed the connection"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        at = head.find(b"content-length:")
        if at < 0:
            raise RuntimeError(f"no Content-Length in {head!r}")
        length = int(head[at + 15 : head.find(b"\r\n", at) if b"\r\n" in head[at:] else None])
        if len(self.buffer) < end + 4 + length:
            return
        status = int(head[9:12])
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((status, body))

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: bytes = b""
    ) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(
            b"%s %s HTTP/1.1\r\n%s%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (method.encode(), path.encode(), self.headers, headers, len(body), body)
        )
        return await self.waiter

    async def call(self, method: str, path: str, payload: object = None, ok: int = 200) -> Any:
        """A JSON request whose answer must have status `ok` (HttpError otherwise)."""
        body = b"" if payload is None else json.dumps(payload).encode()
        status, answer = await self.request(method, path, body)
        if status != ok:
            raise HttpError(status, answer, f"{method} {path}")
        return json.loads(answer) if answer else None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


OnText = Callable[[bytes], None]


class Ws(asyncio.Protocol):
    """A websocket client: raw frames, text in and out, pings answered, nothing decoded.

    Frames are sent with a zero masking key (allowed by RFC 6455 and cheap: the payload
    is unchanged); the server never masks.
    """

    def __init__(self, on_text: OnText) -> None:
        self.on_text = on_text
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.frames = 0

    @classmethod
    async def connect(cls, port: int, on_text: OnText, receive_buffer: int | None = None) -> "Ws":
        loop = asyncio.get_running_loop()
        sock = socket.socket()
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _, ws = await loop.create_connection(lambda: cls(on_text), sock=sock)
        key = base64.b64encode(secrets.token_bytes(16))
        assert ws.transport is not None
        ws.transport.write(
            b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
            % key
        )
        await ws.upgraded
        return ws

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(1006)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded.done():
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.upgraded.set_exception(ConnectionError(bytes(buffer[:end]).decode()))
                return
            del buffer[: end + 4]
            self.upgraded.set_result(None)
        start = 0
        size = len(buffer)
        while size - start >= 2:
            opcode = buffer[start] & 0x0F
            length = buffer[start + 1] & 0x7F
            head = 2
            if length == 126:
                if size - start < 4:
                    break
                length = int.from_bytes(buffer[start + 2 : start + 4], "big")
                head = 4
            elif length == 127:
                if size - start < 10:
                    break
                length = int.from_bytes(buffer[start + 2 : start + 10], "big")
                head = 10
            if size - start < head + length:
                break
            payload = bytes(buffer[start + head : start + head + length])
            start += head + length
            if opcode == 1:
                self.frames += 1
                self.on_text(payload)
            elif opcode == 9:
                self._send(0xA, payload)
            elif opcode == 8:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                if not self.closed.done():
                    self.closed.set_result(code)
                self._send(0x8, payload[:2])
                assert self.transport is not None
                self.transport.close()
        del buffer[:start]

    def _send(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        if self.transport.is_closing():
            return
        length = len(payload)
        if length < 126:
            head = bytes((0x80 | opcode, 0x80 | length))
        elif length < 65536:
            head = bytes((0x80 | opcode, 0x80 | 126)) + length.to_bytes(2, "big")
        else:
            head = bytes((0x80 | opcode, 0x80 | 127)) + length.to_bytes(8, "big")
        self.transport.write(head + b"\0\0\0\0" + payload)

    def send(self, message: object) -> None:
        self._send(0x1, json.dumps(message).encode())

    @property
    def local_port(self) -> int:
        assert self.transport is not None
        port: int = self.transport.get_extra_info("sockname")[1]
        return port

    def pause(self) -> None:
        assert self.transport is not None
        self.transport.pause_reading()

    def resume(self) -> None:
        assert self.transport is not None
        self.transport.resume_reading()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._send(0x8, (1000).to_bytes(2, "big"))
            self.transport.close()


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


def log_bodies(database: Path) -> list[bytes]:
    """Every stored envelope of a (stopped) server's log, in seq order."""
    conn = sqlite3.connect(database)
    try:
        return [body for (body,) in conn.execute("SELECT body FROM events ORDER BY seq")]
    finally:
        conn.close()
