"""One connected websocket client: what it may see, and its bounded queue of outgoing frames.

Each client has its own writer task and a bounded queue: a client that stops reading overflows
its queue and is dropped, to resume later from the last seq it saw, and never slows the rest.
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable

Send = Callable[[str], Awaitable[None]]
Close = Callable[[int, str], Awaitable[None]]
TOO_SLOW = 4008
SIGNED_OUT = 4401


class Client:
    """One connected websocket: what it may see, what it watches, and its outgoing frames."""

    def __init__(
        self,
        send: Send,
        close: Close,
        user: str,
        session: str,
        project: str,
        full_view: bool,
        limit: int,
    ) -> None:
        self.send = send
        self.close = close
        self.user = user
        self.session = session
        self.project = project
        self.full_view = full_view
        self.limit = limit
        self.watching: set[str] = set()
        self.last_seq = 0
        self.catching_up = True
        self.held: list[tuple[int, str]] = []
        self.frames: deque[str] = deque()
        self.ready = asyncio.Event()
        # Set while nothing waits to be sent (or nothing will be: the client was dropped).
        self.drained = asyncio.Event()
        self.drained.set()
        self.dropped = False
        self.writer: asyncio.Task[None] | None = None
        self.warned_until = 0.0
        self.ending: tuple[int, str] | None = None

    def push(self, frame: str) -> None:
        if self.dropped or self.ending is not None:
            return
        if len(self.frames) >= self.limit:
            self.drop()
            return
        self.frames.append(frame)
        self.drained.clear()
        self.ready.set()

    def drop(self) -> None:
        """Stops queuing: the writer closes with TOO_SLOW once its current send returns."""
        self.dropped = True
        self.ready.set()
        self.drained.set()

    def end(self, frame: str, code: int, reason: str) -> None:
        """Sends `frame` after what is queued, then closes with `code`; nothing more is queued."""
        if self.dropped or self.ending is not None:
            return
        self.frames.append(frame)
        self.ending = (code, reason)
        self.drained.clear()
        self.ready.set()

    def deliver(self, seq: int, frame: str) -> None:
        """Queues an event frame, in seq order, never one already sent."""
        if self.catching_up:
            self.held.append((seq, frame))
            if len(self.held) > self.limit:
                self.drop()  # live frames piled up while its catch-up was being sent
        elif seq > self.last_seq:
            self.last_seq = seq
            self.push(frame)

    def finish_catch_up(self) -> None:
        self.catching_up = False
        held, self.held = self.held, []
        for seq, frame in held:
            self.deliver(seq, frame)

    async def write_loop(self) -> None:
        try:
            while True:
                await self.ready.wait()
                self.ready.clear()
                while self.frames and not self.dropped:
                    await self.send(self.frames.popleft())
                self.drained.set()
                if self.dropped:
                    with contextlib.suppress(Exception):
                        await self.close(TOO_SLOW, "too slow: reconnect with the last seq you saw")
                    return
                if self.ending is not None and not self.frames:
                    with contextlib.suppress(Exception):
                        await self.close(*self.ending)
                    return
        finally:
            # Also when a send failed (the client went away): nothing more will be sent.
            self.dropped = True
            self.drained.set()
