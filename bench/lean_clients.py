"""Lean load clients: hand-written HTTP/1.1 and websocket clients on asyncio.

One keep-alive connection per simulated person: httpx or the websockets client cost about as
much CPU per message as the server does, and on a 2-core machine that CPU is taken from the
server being measured.
"""

import asyncio
import base64
import json
import secrets
import socket
from collections.abc import Callable
from typing import Any


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
