"""The one write path: authorize, decide against the live model, append, wait until folded.

Every operation here is one decision appended to one stream: settings and gestures through
`StreamWriter` (server/stream_writer.py), queue decisions through `QueueBatches`
(server/queue_batches.py), which takes the decisions waiting on a project's queue together.
"""

import time
from collections.abc import Callable, Sequence
from typing import cast

from events.annotation import (
    ANNOTATION_EVENTS,
    ActionRedone,
    ActionUndone,
    AnnotationEvent,
    DraftDiscarded,
)
from events.envelope import IncomingEvent, NewEvent, Recorded
from events.projections.workspace import ProjectState
from events.queue import ItemsReleased
from events.store import EventStore
from events.streams import item_stream, project_stream
from events.vocabulary import AnyEvent
from server.decide import queue as queue_rules
from server.decide.gestures import check_gestures
from server.errors import ApiError, Conflict, NotFound, Unprocessable
from server.live import LiveModel
from server.queue_batches import QueueBatches, QueueDecision
from server.stream_writer import StreamWriter, new_event_id


class Commands:
    """Every state-changing operation of the server, each one decision and one append."""

    def __init__(
        self, store: EventStore, live: LiveModel, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.live = live
        self.clock = clock
        self._writer = StreamWriter(store, live)
        self._queue_batches = QueueBatches(self._writer)

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

        return await self._writer.decide_and_append(
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
        """Appends queue events decided on the project (what `decide` may read: QueueBatches)."""
        return await self._queue_batches.append(project_id, actor, session, decide, alone)

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
            return await self._writer.decide_and_append(stream, version, decide, labeler, session)
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
