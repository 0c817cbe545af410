"""Deciding on the live model and appending the decision to its stream, at the version it saw.

Decisions on one stream are serialized in this process by a lock per stream, and appended
with the version they were taken on, so a decision taken on stale state (another process
appended first) fails with a ConcurrencyError and is retried on the newer state.
"""

import asyncio
import contextlib
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence

from events.envelope import NewEvent, Recorded
from events.errors import ConcurrencyError, EventLogError
from events.store import EventStore
from events.vocabulary import AnyEvent
from server.errors import Conflict, from_log_error
from server.live import LiveModel

RETRIES = 5


def new_event_id() -> str:
    """A fresh id for an event the server makes itself."""
    return uuid.uuid4().hex


class StreamWriter:
    """Appends decisions taken on the live model, one at a time per stream, retrying stale ones."""

    def __init__(self, store: EventStore, live: LiveModel) -> None:
        self.store = store
        self.live = live
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def decide_and_append(
        self,
        stream: str,
        version_of: Callable[[], int],
        decide: Callable[[], Sequence[AnyEvent] | Sequence[NewEvent]],
        actor: str,
        session: str,
    ) -> list[Recorded]:
        """Runs `decide` on the current model and appends its events at the version it saw."""
        async with self._locks[stream], self.across_processes(stream):
            for attempt in range(RETRIES):
                version = version_of()
                decided = decide()
                if not decided:
                    return []
                news = [
                    e
                    if isinstance(e, NewEvent)
                    else NewEvent(event_id=new_event_id(), event=e, actor=actor, session=session)
                    for e in decided
                ]
                recorded = await self.append_at(stream, news, version, attempt)
                if recorded is not None:
                    return recorded
        return []

    async def append_at(
        self, stream: str, news: list[NewEvent], version: int, attempt: int
    ) -> list[Recorded] | None:
        """Appends events decided at `version` and waits until they are folded.

        Returns None when another process appended first: its events are folded by then, so
        the caller decides again; on the last of the RETRIES attempts that is a Conflict.
        """
        try:
            recorded = await self.store.append(stream, news, version)
        except ConcurrencyError:
            if attempt == RETRIES - 1:
                raise Conflict(f"{stream} keeps changing; try again", field="stream") from None
            await self.live.wait_for(await self.store.last_seq())
            return None
        except EventLogError as exc:
            raise from_log_error(exc) from exc
        await self.live.wait_for(recorded[-1].seq)
        return recorded

    @contextlib.asynccontextmanager
    async def across_processes(self, stream: str) -> AsyncIterator[None]:
        """On a store that other processes append to, takes turns with them on the stream.

        Without it, processes deciding on a hot stream (a project's queue) race, and all but
        one retry; with it they wait for the stream's lock and fold what came before deciding.
        """
        lock = getattr(self.store, "stream_lock", None)
        if lock is None:
            yield
            return
        async with lock(stream) as last_seq:
            await self.live.wait_for(last_seq)
            yield
