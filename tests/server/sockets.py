"""The websocket client of the integration tests: real sockets, every frame recorded."""

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.server.clients import new_id
from tests.server.servers import Server


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
