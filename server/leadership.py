"""Leadership: which one of the server processes runs a job that must run once (the lease
reaper, the assistant worker).

On PostgreSQL a process leads a job while it holds a session-level advisory lock on a
connection of its own. When the process dies its connection closes and PostgreSQL releases the
lock; the others try for it every `retry_seconds`, so leadership moves within about that long.
A process that hangs stops pinging, and the server ends its idle session (and the lock) after
`idle_session_timeout`. A leader that loses its connection stops leading at once: it can no
longer know that it holds the lock.

With SQLite (or in memory) there is one process, which always leads.

Leadership keeps a job from running twice over; it is not what keeps the log right. The
reaper's appends carry the version they were decided on, so two leaders for a moment (a cut
connection noticed late) conflict rather than expire a lease twice.
"""

import asyncio
import contextlib
import logging
import os
from typing import Protocol

import asyncpg

from events.postgres_connections import CONNECTION_LOST
from events.postgres_schema import LOCK_SPACE, lock_key

log = logging.getLogger(__name__)
PING_TIMEOUT = 5.0
# A leader pings every retry interval; a session silent for this long belongs to a process
# that hangs, and PostgreSQL ends it (releasing the lock). Long enough to ride out a stalled
# event loop (a large rebuild) without handing leadership back and forth.
IDLE_SESSION_SECONDS = 30.0


class Leadership(Protocol):
    """Whether this process leads one job, kept up to date in the background."""

    job: str

    def is_leader(self) -> bool: ...

    async def wait_until_leader(self) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class SoleLeader:
    """The only process there is: it always leads."""

    def __init__(self, job: str) -> None:
        self.job = job

    def is_leader(self) -> bool:
        return True

    async def wait_until_leader(self) -> None:
        return None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class AdvisoryLeadership:
    """Leads `job` while holding its advisory lock in the database at `dsn`."""

    def __init__(self, dsn: str, job: str, retry_seconds: float = 1.0) -> None:
        self.job = job
        self._dsn = dsn
        self._retry = retry_seconds
        self._idle_timeout = max(IDLE_SESSION_SECONDS, 4 * retry_seconds)
        self._leading = False
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def is_leader(self) -> bool:
        return self._leading

    async def wait_until_leader(self) -> None:
        while not self._leading:
            await self._changed.wait()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._campaign(), name=f"leadership-{self.job}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._set(False)

    def _set(self, leading: bool) -> None:
        if leading != self._leading:
            self._leading = leading
            log.info(
                "process %s %s the %s", os.getpid(), "now leads" if leading else "lost", self.job
            )
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()

    async def _campaign(self) -> None:
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(
                    self._dsn,
                    server_settings={
                        # Who holds the lock can be read from pg_stat_activity.
                        "application_name": f"annolog-leader-{self.job}-{os.getpid()}",
                        "idle_session_timeout": f"{int(self._idle_timeout * 1000)}",
                    },
                )
                key = await lock_key(conn, f"leader:{self.job}")
                await self._hold(conn, key)
            except (*CONNECTION_LOST, asyncpg.PostgresError, TimeoutError):
                log.warning("leadership of the %s: connection lost", self.job, exc_info=True)
            except Exception:
                # Whatever went wrong, this process must go on trying (or another one leads).
                log.exception("leadership of the %s failed; trying again", self.job)
            finally:
                self._set(False)
                if conn is not None:
                    conn.terminate()
            await asyncio.sleep(self._retry)

    async def _hold(self, conn: asyncpg.Connection, key: int) -> None:
        """Tries for the lock until it is won, then pings to keep it; returns when cut off."""
        while True:
            async with asyncio.timeout(PING_TIMEOUT):
                won = await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", LOCK_SPACE, key)
            if won:
                break
            await asyncio.sleep(self._retry)
        self._set(True)
        while True:
            await asyncio.sleep(self._retry)
            async with asyncio.timeout(PING_TIMEOUT):
                await conn.execute("SELECT 1")


def leadership_for(database: str, job: str, retry_seconds: float) -> Leadership:
    """Advisory-lock leadership on PostgreSQL, else the sole process leads."""
    if database.startswith(("postgres://", "postgresql://")):
        return AdvisoryLeadership(database, job, retry_seconds)
    return SoleLeader(job)
