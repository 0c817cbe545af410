"""The EventStore protocol every backend implements, and the read-model checkpoint protocol."""

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from events.envelope import NewEvent, Recorded


class EventStore(Protocol):
    """An append-only log of events in streams, with one global order (`seq`)."""

    async def append(
        self, stream: str, events: Sequence[NewEvent], expected_version: int
    ) -> list[Recorded]:
        """Appends atomically if the stream is at `expected_version`; acknowledged once durable.

        Raises ConcurrencyError when the version is stale. Re-appending event ids already in
        the log writes nothing and returns the original envelopes.
        """
        ...

    async def read_stream(
        self, stream: str, after_version: int = 0, limit: int | None = None
    ) -> list[Recorded]:
        """Events of one stream whose version is greater than `after_version`, in order."""
        ...

    async def read_all(self, after: int = 0, limit: int = 1000) -> list[Recorded]:
        """Up to `limit` events of all streams whose seq is greater than `after`, in order."""
        ...

    def subscribe(self, after: int = 0) -> AsyncIterator[Recorded]:
        """Every event after `after`: first those already in the log, then live, none twice."""
        ...

    async def last_seq(self) -> int:
        """The seq of the newest committed event (0 for an empty log)."""
        ...

    async def stream_version(self, stream: str) -> int:
        """The version of a stream (0 when it has no events)."""
        ...

    async def seq_at(self, at: float) -> int:
        """The seq of the newest event stamped at or before `at` (0 if none)."""
        ...

    async def close(self) -> None: ...


class CheckpointStore(Protocol):
    """Where rebuilt read models keep their state and the seq it folds up to."""

    async def save_checkpoint(self, name: str, seq: int, state: bytes) -> None: ...

    async def load_checkpoint(self, name: str) -> tuple[int, bytes] | None: ...

    async def drop_checkpoint(self, name: str) -> None: ...
