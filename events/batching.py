"""The part of a store that every backend shares: group commit, the live tail, subscriptions.

Appends are queued and one writer task hands whatever is waiting to the backend's
`_commit` as one batch (one transaction), then acknowledges each caller. Committed events are
kept in a short in-memory tail so that live subscribers rarely go back to the database.
"""

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence

from events.appends import BatchPlan, Prepared, prepare
from events.envelope import NewEvent, Recorded
from events.errors import StoreClosedError, StoreUnavailableError

MAX_BATCH_APPENDS = 1_000
TAIL_LENGTH = 20_000
# How long a subscription waits before reading again when the database was out of reach.
UNAVAILABLE_RETRY_SECONDS = 0.5


class BatchingStore(ABC):
    """Base of the stores: implements `append`, `read_all` and `subscribe` over `_commit`."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._pending: list[tuple[Prepared, asyncio.Future[list[Recorded]]]] = []
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        self._last_seq = 0
        self._last_at = 0.0
        self._tail: list[Recorded] = []

    def _start(self, last_seq: int, last_at: float) -> None:
        self._last_seq = last_seq
        self._last_at = last_at
        self._writer = asyncio.create_task(self._write_loop(), name=f"{type(self).__name__}")

    @abstractmethod
    async def _commit(self, batch: Sequence[Prepared], last_seq: int, now: float) -> BatchPlan:
        """Plans and durably writes one batch in one transaction; returns what it decided."""

    @abstractmethod
    async def _read_after(self, after: int, limit: int) -> list[Recorded]:
        """Committed events with seq > after from the backend itself."""

    async def append(
        self, stream: str, events: Sequence[NewEvent], expected_version: int
    ) -> list[Recorded]:
        prepared = prepare(stream, events, expected_version)
        if self._closed:
            raise StoreClosedError("the store is closed")
        future: asyncio.Future[list[Recorded]] = asyncio.get_running_loop().create_future()
        self._pending.append((prepared, future))
        self._wake.set()
        return await future

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                try:
                    await self._begin_batch()
                except Exception as exc:
                    self._fail(self._take(), exc)
                    continue
                await self._commit_and_ack(self._take())
            if self._closed:
                return

    def _take(self) -> list[tuple[Prepared, asyncio.Future[list[Recorded]]]]:
        batch = self._pending[:MAX_BATCH_APPENDS]
        del self._pending[:MAX_BATCH_APPENDS]
        return batch

    async def _begin_batch(self) -> None:
        """Called before a batch is taken from the queue. A backend shared with other
        processes waits here for its turn to write, so appends arriving meanwhile join the batch.
        """
        return None

    @staticmethod
    def _fail(batch: list[tuple[Prepared, asyncio.Future[list[Recorded]]]], exc: Exception) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(exc)

    async def _commit_and_ack(
        self, batch: list[tuple[Prepared, asyncio.Future[list[Recorded]]]]
    ) -> None:
        # Stamps never go backwards, so the log's order is also an order in time.
        now = max(self._clock(), self._last_at)
        try:
            plan = await self._commit([prepared for prepared, _ in batch], self._last_seq, now)
        except Exception as exc:
            self._fail(batch, exc)
            return
        if plan.rows:
            self._committed(plan)
        for (_, future), outcome in zip(batch, plan.outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _committed(self, plan: BatchPlan) -> None:
        """Takes note of a batch this process committed: the live tail, the subscribers.

        A backend that other processes append to overrides this (its tail must have no gaps).
        """
        self._last_seq = plan.last_seq
        self._last_at = plan.last_at
        self._publish([row.recorded for row in plan.rows])

    def _publish(self, events: list[Recorded]) -> None:
        """Adds committed events that follow the tail without a gap; wakes the subscribers."""
        self._tail.extend(events)
        if len(self._tail) > 2 * TAIL_LENGTH:
            del self._tail[:-TAIL_LENGTH]
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def read_all(self, after: int = 0, limit: int = 1000) -> list[Recorded]:
        return await self._read_tail(after, limit)

    async def _read_tail(self, after: int, limit: int) -> list[Recorded]:
        """Committed events after `after`: from the tail when it reaches back that far."""
        tail = self._tail
        if tail and tail[0].seq <= after + 1:
            start = after + 1 - tail[0].seq
            return tail[start : start + limit]
        return await self._read_after(after, limit)

    async def last_seq(self) -> int:
        return self._last_seq

    async def subscribe(self, after: int = 0) -> AsyncIterator[Recorded]:
        while not self._closed:
            try:
                batch = await self._read_tail(after, 1000)
            except StoreUnavailableError:
                # A subscription is meant to outlive a restart of the database: it waits and
                # reads again from where it was, so the subscriber sees no gap and no error.
                await asyncio.sleep(UNAVAILABLE_RETRY_SECONDS)
                continue
            if batch:
                for recorded in batch:
                    yield recorded
                after = batch[-1].seq
                continue
            if self._last_seq <= after:
                await self._changed.wait()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            # The writer finishes what is queued (each append was promised an answer), then ends.
            self._wake.set()
            await self._writer
        self._changed.set()
        await self._close_backend()

    @abstractmethod
    async def _close_backend(self) -> None:
        """Releases the backend's connections."""
