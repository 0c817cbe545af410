"""Decisions on a project's queue, taken together in batches and appended once per batch.

A project's queue stream is where every labeler's page requests and submits meet, and one
decision per commit (and fold) would serialize them all behind the disk. So the decisions
waiting for a queue stream are taken together, in turn, and appended as one batch at the
version they saw. Each of them reads only its own session's part of the queue, never changed
by another decision of the batch (one decision per session per batch), plus which items are
free to hand out: the items that earlier decisions of the batch handed out are passed along,
with the labelers they went to, and count as held. What the others release or submit is not
seen until the next batch, which only makes fewer items free; so a decision that finds
nothing left is taken again in a batch of its own before the labeler is told so. A decision
that reads the whole queue (the reaper's) goes alone.
"""

import asyncio
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from events.envelope import NewEvent, Recorded
from events.projections.workspace import ProjectState
from events.queue import PageAssigned, QueueExhausted
from events.streams import queue_stream
from events.vocabulary import AnyEvent
from server.errors import Conflict
from server.stream_writer import RETRIES, StreamWriter, new_event_id

# A decision on a project's queue: the project, and the items handed out by decisions taken
# earlier in the same batch (item -> labelers), in -> the events to append.
QueueDecision = Callable[[ProjectState, Mapping[str, Sequence[str]]], Sequence[AnyEvent]]


@dataclass
class _Waiting:
    """A decision on a queue stream waiting for its batch."""

    decide: QueueDecision
    actor: str
    session: str
    alone: bool
    future: asyncio.Future[list[Recorded]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    # Set when the decision is answered, or when its caller is to lead the next batch.
    turn: asyncio.Event = field(default_factory=asyncio.Event)

    def answer(self, recorded: list[Recorded]) -> None:
        self.future.set_result(recorded)
        self.turn.set()

    def fail(self, error: BaseException) -> None:
        self.future.set_exception(error)
        self.turn.set()


class QueueBatches:
    """The decisions waiting on each project's queue stream, and the caller leading them."""

    def __init__(self, writer: StreamWriter) -> None:
        self.writer = writer
        self._waiting: defaultdict[str, deque[_Waiting]] = defaultdict(deque)
        # Per queue stream, the waiting decision whose caller decides the batches now.
        self._leaders: dict[str, _Waiting] = {}

    async def append(
        self,
        project_id: str,
        actor: str,
        session: str,
        decide: QueueDecision,
        alone: bool = False,
    ) -> list[Recorded]:
        """Appends queue events decided on the project, in a batch with other sessions' ones.

        `decide(project, taken)` must read and change only `session`'s part of the queue and
        must count the items in `taken` as held by the labelers named there; with `alone`, it
        may read anything, and runs in a batch of its own (taken is then empty).
        """
        self.writer.live.project(project_id)  # NotFound before any lock is taken
        stream = queue_stream(project_id)
        waiting = _Waiting(decide, actor, session, alone)
        queued = self._waiting[stream]
        queued.append(waiting)
        self._leaders.setdefault(stream, waiting)
        try:
            # One caller at a time leads: it decides batches (its own and whoever else's is
            # waiting) until its own decision is answered, then hands over to the next one
            # still waiting. The others are woken when they are answered, all at once.
            while not waiting.future.done():
                if self._leaders[stream] is waiting:
                    await self._next_batch(project_id, stream, queued)
                else:
                    await waiting.turn.wait()
                    waiting.turn.clear()
        finally:
            if waiting in queued:
                queued.remove(waiting)
            if self._leaders.get(stream) is waiting:
                successor = next(iter(queued), None)
                if successor is None:
                    del self._leaders[stream]
                else:
                    self._leaders[stream] = successor
                    successor.turn.set()
        return waiting.future.result()

    async def _next_batch(self, project_id: str, stream: str, queued: deque[_Waiting]) -> None:
        """Decides and appends the next batch of waiting queue decisions, and answers them."""
        batch: list[_Waiting] = []
        sessions: set[str] = set()
        for waiting in list(queued):
            if waiting.alone:
                if not batch:
                    batch.append(waiting)
                    queued.remove(waiting)
                break
            if waiting.session in sessions:
                continue  # its session's earlier decision must be folded in first
            sessions.add(waiting.session)
            batch.append(waiting)
            queued.remove(waiting)
        deferred: list[_Waiting] = []
        try:
            async with self.writer.across_processes(stream):
                await self._decide_batch(project_id, stream, batch, deferred)
        except Exception as exc:
            deferred.clear()
            for waiting in batch:
                if not waiting.future.done():
                    waiting.fail(exc)
        finally:
            # Taken again first, alone, on the state with this batch folded in.
            queued.extendleft(reversed(deferred))
            for waiting in batch:
                if not waiting.future.done() and waiting not in deferred:
                    waiting.fail(Conflict("interrupted; try again"))

    async def _decide_batch(
        self, project_id: str, stream: str, batch: list[_Waiting], deferred: list[_Waiting]
    ) -> None:
        for attempt in range(RETRIES):
            project = self.writer.live.project(project_id)
            version = project.queue.version
            taken: dict[str, list[str]] = {}
            decided: list[tuple[_Waiting, list[NewEvent]]] = []
            deferred.clear()
            for waiting in batch:
                if waiting.future.done():
                    continue
                try:
                    events = waiting.decide(project, taken)
                except Exception as exc:
                    waiting.fail(exc)
                    continue
                if len(batch) > 1 and any(isinstance(e, QueueExhausted) for e in events):
                    waiting.alone = True
                    deferred.append(waiting)
                    continue
                for event in events:
                    if isinstance(event, PageAssigned):
                        for item in event.items:
                            taken.setdefault(item, []).append(event.labeler)
                news = [
                    NewEvent(
                        event_id=new_event_id(),
                        event=event,
                        actor=waiting.actor,
                        session=waiting.session,
                    )
                    for event in events
                ]
                decided.append((waiting, news))
            appended = [new for _, news in decided for new in news]
            if not appended:
                for waiting, _ in decided:
                    waiting.answer([])
                return
            recorded = await self.writer.append_at(stream, appended, version, attempt)
            if recorded is None:
                continue
            start = 0
            for waiting, news in decided:
                waiting.answer(recorded[start : start + len(news)])
                start += len(news)
            return
