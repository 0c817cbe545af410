"""The one write path: authorize, decide against the live model, append, wait until folded.

Decisions on one stream are serialized in this process by a lock per stream, and appended
with the version they were taken on, so a decision taken on stale state (another process
appended first) fails with a ConcurrencyError and is retried on the newer state.

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
import contextlib
import time
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from events.annotation import (
    ANNOTATION_EVENTS,
    ActionRedone,
    ActionUndone,
    AnnotationEvent,
    DraftDiscarded,
)
from events.envelope import IncomingEvent, NewEvent, Recorded
from events.errors import ConcurrencyError, EventLogError
from events.projections.workspace import ProjectState
from events.queue import ItemsReleased, PageAssigned, QueueExhausted
from events.store import EventStore
from events.streams import item_stream, project_stream, queue_stream
from events.vocabulary import AnyEvent
from server.decide import queue as queue_rules
from server.decide.gestures import check_gestures
from server.errors import ApiError, Conflict, NotFound, Unprocessable, from_log_error
from server.live import LiveModel

RETRIES = 5
# A decision on a project's queue: the project, and the items handed out by decisions taken
# earlier in the same batch (item -> labelers), in -> the events to append.
QueueDecision = Callable[[ProjectState, Mapping[str, Sequence[str]]], Sequence[AnyEvent]]


def new_event_id() -> str:
    return uuid.uuid4().hex


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


class Commands:
    """Every state-changing operation of the server, each one decision and one append."""

    def __init__(
        self, store: EventStore, live: LiveModel, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.live = live
        self.clock = clock
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._waiting: defaultdict[str, deque[_Waiting]] = defaultdict(deque)
        # Per queue stream, the waiting decision whose caller decides the batches now.
        self._leaders: dict[str, _Waiting] = {}

    async def _decide_and_append(
        self,
        stream: str,
        version_of: Callable[[], int],
        decide: Callable[[], Sequence[AnyEvent] | Sequence[NewEvent]],
        actor: str,
        session: str,
    ) -> list[Recorded]:
        """Runs `decide` on the current model and appends its events at the version it saw."""
        async with self._locks[stream], self._across_processes(stream):
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
                try:
                    recorded = await self.store.append(stream, news, version)
                except ConcurrencyError:
                    if attempt == RETRIES - 1:
                        raise Conflict(
                            f"{stream} keeps changing; try again", field="stream"
                        ) from None
                    # Another process appended first: wait until we have folded its events.
                    await self.live.wait_for(await self.store.last_seq())
                    continue
                except EventLogError as exc:
                    raise from_log_error(exc) from exc
                await self.live.wait_for(recorded[-1].seq)
                return recorded
        return []

    @contextlib.asynccontextmanager
    async def _across_processes(self, stream: str) -> AsyncIterator[None]:
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

    async def project_events(
        self,
        project_id: str,
        actor: str,
        session: str,
        decide: Callable[[ProjectState | None], Sequence[AnyEvent]],
    ) -> list[Recorded]:
        """Appends settings events decided on the project (None while it does not exist)."""

        def version() -> int:
            project = self.live.workspace.projects.get(project_id)
            return 0 if project is None else project.version

        return await self._decide_and_append(
            project_stream(project_id),
            version,
            lambda: decide(self.live.workspace.projects.get(project_id)),
            actor,
            session,
        )

    async def queue_events(
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
        self.live.project(project_id)  # NotFound before any lock is taken
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
                    await self._queue_batch(project_id, stream, queued)
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

    async def _queue_batch(self, project_id: str, stream: str, queued: deque[_Waiting]) -> None:
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
        async with self._across_processes(stream):
            await self._decide_batch_in_turn(project_id, stream, batch, deferred)

    async def _decide_batch_in_turn(
        self, project_id: str, stream: str, batch: list[_Waiting], deferred: list[_Waiting]
    ) -> None:
        for attempt in range(RETRIES):
            project = self.live.project(project_id)
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
            try:
                recorded = await self.store.append(stream, appended, version)
            except ConcurrencyError:
                if attempt == RETRIES - 1:
                    raise Conflict(f"{stream} keeps changing; try again", field="stream") from None
                # Another process appended first: wait until we have folded its events.
                await self.live.wait_for(await self.store.last_seq())
                continue
            except EventLogError as exc:
                raise from_log_error(exc) from exc
            await self.live.wait_for(recorded[-1].seq)
            start = 0
            for waiting, news in decided:
                waiting.answer(recorded[start : start + len(news)])
                start += len(news)
            return

    # The labeler's side.

    async def next_page(
        self, project_id: str, labeler: str, session: str, page_size: int | None = None
    ) -> list[str]:
        """The labeler's page: their unfinished one, else a fresh one ([] when nothing is left)."""
        await self.queue_events(
            project_id,
            labeler,
            session,
            lambda p, taken: queue_rules.next_page(
                p, session, labeler, self.clock(), page_size, taken
            ),
        )
        return self.live.project(project_id).queue.page_of(session)

    async def append_gestures(
        self,
        project_id: str,
        item: str,
        labeler: str,
        session: str,
        incoming: Sequence[IncomingEvent],
        expected_version: int | None = None,
    ) -> list[Recorded]:
        """Appends a labeler's gestures on an item of their page, checked against their draft."""
        project = self.live.project(project_id)
        if item not in project.items:
            raise NotFound(f"item {item} is not in project {project_id}", field="item")
        stream = item_stream(project_id, item)
        for index, new in enumerate(incoming):
            if not isinstance(new.event, ANNOTATION_EVENTS):
                raise Unprocessable(
                    "only annotation gestures can be sent for an item",
                    field=f"$[{index}].event.type",
                )

        def version() -> int:
            state = self.live.project(project_id).annotations.get(item)
            current = 0 if state is None else state.version
            if expected_version is not None and expected_version != current:
                raise Conflict(
                    f"{stream}: expected version {expected_version}, "
                    f"but the stream is at version {current}",
                    stream=stream,
                    expected_version=expected_version,
                    current_version=current,
                )
            return current

        def decide() -> list[NewEvent]:
            current = self.live.project(project_id)
            queue_rules.require_on_page(current, session, item, self.clock())
            gestures = [(e.event_id, cast(AnnotationEvent, e.event)) for e in incoming]
            check_gestures(current, item, labeler, gestures)
            return [
                NewEvent(event_id=e.event_id, event=e.event, actor=labeler, session=session)
                for e in incoming
            ]

        try:
            return await self._decide_and_append(stream, version, decide, labeler, session)
        except ApiError:
            # A retry of a batch that did land (the ack was lost) fails the checks against
            # the draft it already changed; it is answered with the original envelopes.
            originals = await self._originals(stream, incoming)
            if originals is None:
                raise
            return originals

    async def _originals(
        self, stream: str, incoming: Sequence[IncomingEvent]
    ) -> list[Recorded] | None:
        """The recorded envelopes of a batch already in the stream, or None."""
        wanted = {e.event_id: e.event for e in incoming}
        found = {
            r.event_id: r for r in await self.store.read_stream(stream) if r.event_id in wanted
        }
        if len(found) != len(wanted) or any(found[i].event != e for i, e in wanted.items()):
            return None
        return [found[e.event_id] for e in incoming]

    async def undo(
        self, project_id: str, item: str, labeler: str, session: str, redo: bool = False
    ) -> list[Recorded]:
        """Undoes (or redoes) the labeler's latest gesture on the item."""
        state = self.live.project(project_id).annotations.get(item)
        work = None if state is None else state.work.get(labeler)
        stack = [] if work is None else (work.undone if redo else work.done)
        if not stack:
            raise Conflict(f"nothing to {'redo' if redo else 'undo'} on item {item}", field="item")
        target = stack[-1][0]
        event: AnnotationEvent = (
            ActionRedone(target=target) if redo else ActionUndone(target=target)
        )
        return await self.append_gestures(
            project_id,
            item,
            labeler,
            session,
            [IncomingEvent(event_id=new_event_id(), event=event)],
        )

    async def submit(
        self, project_id: str, labeler: str, session: str, items: Sequence[str] | None
    ) -> list[Recorded]:
        return await self.queue_events(
            project_id,
            labeler,
            session,
            lambda p, _: queue_rules.submit_page(p, session, labeler, items, self.clock()),
        )

    async def skip(self, project_id: str, labeler: str, session: str, item: str) -> list[Recorded]:
        return await self.queue_events(
            project_id,
            labeler,
            session,
            lambda p, _: queue_rules.skip_item(p, session, labeler, item, self.clock()),
        )

    async def switch_layout(
        self, project_id: str, labeler: str, session: str, page_size: int
    ) -> list[str]:
        """Discards the drafts of the current page (as events), releases it, deals a new one."""
        project = self.live.project(project_id)
        page = queue_rules.held_page(project, session, self.clock())
        for item in page:
            state = project.annotations.get(item)
            if state is not None and not state.draft_of(labeler).is_empty():
                await self.append_gestures(
                    project_id,
                    item,
                    labeler,
                    session,
                    [
                        IncomingEvent(
                            event_id=new_event_id(), event=DraftDiscarded(reason="layout_switch")
                        )
                    ],
                )
        if page:
            await self.queue_events(
                project_id,
                labeler,
                session,
                lambda p, _: (
                    [
                        ItemsReleased(
                            session_id=session,
                            labeler=labeler,
                            items=list(p.queue.page_of(session)),
                            reason="layout_switch",
                        )
                    ]
                    if p.queue.page_of(session)
                    else []
                ),
            )
        return await self.next_page(project_id, labeler, session, page_size)

    async def heartbeat(
        self, project_id: str, labeler: str, session: str, record_every: float
    ) -> float | None:
        """Renews the session's lease; returns when it now lapses (None when it has ended)."""
        await self.queue_events(
            project_id,
            labeler,
            session,
            lambda p, _: queue_rules.renew(p, session, self.clock(), record_every),
        )
        found = self.live.project(project_id).queue.sessions.get(session)
        return found.lease_until if found is not None and found.open else None

    async def sign_out(self, labeler: str, session: str) -> None:
        """Ends the session on every project where it holds a lease."""
        for project_id, project in list(self.live.workspace.projects.items()):
            if session in project.queue.sessions:
                await self.queue_events(
                    project_id, labeler, session, lambda p, _: queue_rules.sign_out(p, session)
                )

    async def expire_leases(self) -> list[Recorded]:
        """The reaper's step: ends every lapsed session on every project."""
        recorded: list[Recorded] = []
        now = self.clock()
        for project_id, project in list(self.live.workspace.projects.items()):
            if project.queue.expired_sessions(now):
                recorded += await self.queue_events(
                    project_id,
                    "system",
                    "reaper",
                    lambda p, _: queue_rules.expire(p, self.clock()),
                    alone=True,
                )
        return recorded
