"""The in-memory store: the same contract as the durable ones, for tests and demos."""

import time
from collections.abc import Callable, Iterable, Sequence

from events.appends import BatchPlan, Prepared, plan_batch
from events.batching import BatchingStore
from events.envelope import Recorded


class MemoryStore(BatchingStore):
    """An EventStore and CheckpointStore that keeps everything in lists and dicts."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self._log: list[Recorded] = []
        self._by_id: dict[str, Recorded] = {}
        self._streams: dict[str, list[Recorded]] = {}
        self._checkpoints: dict[str, tuple[int, bytes]] = {}

    @classmethod
    async def open(cls, clock: Callable[[], float] = time.time) -> "MemoryStore":
        store = cls(clock)
        store._start(0, 0.0)
        return store

    async def _commit(self, batch: Sequence[Prepared], last_seq: int, now: float) -> BatchPlan:
        plan = plan_batch(
            batch,
            last_seq=last_seq,
            now=now,
            version_of=lambda stream: len(self._streams.get(stream, ())),
            existing=self._existing,
        )
        for row in plan.rows:
            recorded = row.recorded
            self._log.append(recorded)
            self._by_id[recorded.event_id] = recorded
            self._streams.setdefault(recorded.stream, []).append(recorded)
        return plan

    def _existing(self, event_ids: Iterable[str]) -> dict[str, Recorded]:
        return {i: self._by_id[i] for i in event_ids if i in self._by_id}

    async def _read_after(self, after: int, limit: int) -> list[Recorded]:
        return self._log[after : after + limit]

    async def read_stream(
        self, stream: str, after_version: int = 0, limit: int | None = None
    ) -> list[Recorded]:
        events = self._streams.get(stream, [])
        end = None if limit is None else after_version + limit
        return events[after_version:end]

    async def stream_version(self, stream: str) -> int:
        return len(self._streams.get(stream, ()))

    async def seq_at(self, at: float) -> int:
        low, high = 0, len(self._log)
        while low < high:
            middle = (low + high) // 2
            if self._log[middle].at <= at:
                low = middle + 1
            else:
                high = middle
        return low

    async def _close_backend(self) -> None:
        return None

    async def save_checkpoint(self, name: str, seq: int, state: bytes) -> None:
        self._checkpoints[name] = (seq, state)

    async def load_checkpoint(self, name: str) -> tuple[int, bytes] | None:
        return self._checkpoints.get(name)

    async def drop_checkpoint(self, name: str) -> None:
        self._checkpoints.pop(name, None)
