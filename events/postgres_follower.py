"""How a PostgreSQL store learns of the events that other processes commit.

A connection of its own LISTENs on the log's channel. A notification (its payload is the new
last seq), this process's own commit out of turn, or a poll every POLL_SECONDS pokes the
follower, which reads the log after the end of the store's live tail — through that same
connection, never the store's pool: requests waiting for a stream lock may hold every pooled
connection while they wait for this very read to be folded — and hands what it read to the
store: the tail only grows by events read back from the database after its end, so it is
always a gap-free prefix of the log. A lost listener is replaced; notifications sent while no
one listened are lost, but the catch-up that follows reads the table itself, so no event is.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from events.envelope import Recorded
from events.errors import StoreUnavailableError
from events.postgres_connections import CONNECTION_LOST, LISTENER_SETTINGS

log = logging.getLogger(__name__)

FETCH = 10_000
# How often the follower reads the log even without a notification, and checks its listener.
POLL_SECONDS = 1.0
PING_TIMEOUT = 5.0
# What a failed step of the follower may raise while the database is away: it tries again.
FOLLOW_FAILED = (*CONNECTION_LOST, StoreUnavailableError, asyncpg.PostgresError, TimeoutError)


class LogFollower:
    """Reads what was committed after a store's live tail whenever the tail may have grown."""

    def __init__(
        self,
        dsn: str,
        channel: str,
        read_after: Callable[[asyncpg.Connection, int, int], Awaitable[list[Recorded]]],
        tail_end: Callable[[], int],
        accept: Callable[[list[Recorded]], None],
    ) -> None:
        self._dsn = dsn
        self._channel = channel
        self._read_after = read_after
        self._tail_end = tail_end
        self._accept = accept
        self._listener: asyncpg.Connection | None = None
        self._poked = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self._failing = False

    def poke(self) -> None:
        """Says that the log may hold events after the tail: they are read soon."""
        self._poked.set()

    async def listen(self) -> None:
        """Opens the listener connection; before `start`, so that no notification is missed."""
        self._listener = await asyncpg.connect(self._dsn, server_settings=LISTENER_SETTINGS)
        await self._listener.add_listener(self._channel, self._notified)

    def start(self) -> None:
        """Starts following, in a task that runs until `stop`."""
        self._task = asyncio.create_task(self._follow(), name="PostgresStore.follow")

    async def stop(self) -> None:
        """Ends the task and closes the listener connection."""
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._listener is not None:
            with contextlib.suppress(OSError, asyncpg.InterfaceError):
                await self._listener.close()

    def _notified(self, conn: object, pid: int, channel: str, payload: str) -> None:
        try:
            seq = int(payload)
        except ValueError:
            seq = self._tail_end() + 1
        if seq > self._tail_end():
            self._poked.set()

    async def _follow(self) -> None:
        while not self._stopped:
            try:
                async with asyncio.timeout(POLL_SECONDS):
                    await self._poked.wait()
            except TimeoutError:
                pass
            self._poked.clear()
            try:
                await self._check_listener()
                await self._catch_up()
            except FOLLOW_FAILED:
                # Once with the cause, then a line a try: an outage must not flood the log.
                log.warning(
                    "following the log failed; trying again every %s s",
                    POLL_SECONDS,
                    exc_info=not self._failing,
                )
                self._failing = True
                await asyncio.sleep(POLL_SECONDS)
                continue
            except Exception:
                # The subscribers depend on this task: it logs what went wrong and goes on.
                log.exception("following the log failed; trying again")
                await asyncio.sleep(POLL_SECONDS)
                continue
            if self._failing:
                log.warning("following the log again")
                self._failing = False

    async def _check_listener(self) -> None:
        listener = self._listener
        if listener is not None and not listener.is_closed():
            try:
                async with asyncio.timeout(PING_TIMEOUT):
                    await listener.execute("SELECT 1")
                return
            except (*CONNECTION_LOST, asyncpg.PostgresError, TimeoutError):
                listener.terminate()
        await self.listen()

    async def _catch_up(self) -> None:
        assert self._listener is not None, "_check_listener opens it first"
        while not self._stopped:
            events = await self._read_after(self._listener, self._tail_end(), FETCH)
            self._accept(events)
            if len(events) < FETCH:
                return
