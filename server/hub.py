"""The websocket fan-out: who gets which event, and a bounded queue and writer per client.

The live model calls `publish` once per folded event. The hub encodes the event once, picks
the clients that may see it (the project's admins and auditors see everything; a labeler
sees the items they watch and their own queue), and queues the frame for each. Each client
has its own writer task and a bounded queue: a client that stops reading overflows its
queue and is dropped, to resume later from the last seq it saw, and never slows the rest.
"""

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from events.assist import ItemsClustered, PrelabelProposed
from events.codec import encode_json
from events.envelope import Recorded
from events.project import ItemsImported
from events.projections.workspace import ProjectState, Workspace
from events.queue import (
    ItemSkipped,
    ItemsReleased,
    PageAssigned,
    PageSubmitted,
    QueueExhausted,
    SessionClosed,
    SessionExpired,
    SessionOpened,
    SessionRenewed,
)

log = logging.getLogger(__name__)
Send = Callable[[str], Awaitable[None]]
Close = Callable[[int, str], Awaitable[None]]
TOO_SLOW = 4008


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

    def push(self, frame: str) -> None:
        if self.dropped:
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
        finally:
            # Also when a send failed (the client went away): nothing more will be sent.
            self.dropped = True
            self.drained.set()


def event_frame(recorded: Recorded) -> str:
    return '{"type":"event","data":' + encode_json(recorded).decode() + "}"


def frame(frame_type: str, **fields: Any) -> str:
    return encode_json({"type": frame_type, **fields}).decode()


QUEUE_SESSION_EVENTS = (
    SessionOpened,
    SessionRenewed,
    SessionClosed,
    SessionExpired,
    PageAssigned,
    ItemsReleased,
    ItemSkipped,
    PageSubmitted,
    QueueExhausted,
)


class Hub:
    """Every connected client, by project and by watched item stream."""

    def __init__(self, progress_interval: float = 0.25) -> None:
        self.by_project: dict[str, set[Client]] = {}
        self.watchers: dict[str, set[Client]] = {}
        self.progress_interval = progress_interval
        self._dirty: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._workspace_of: Callable[[], Workspace] = Workspace
        self._counts: dict[str, QueueCounts] = {}

    def start(self, workspace_of: Callable[[], Workspace]) -> None:
        self._workspace_of = workspace_of
        self._task = asyncio.create_task(self._progress_loop(), name="hub-progress")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for clients in list(self.by_project.values()):
            for client in list(clients):
                await self.remove(client)

    def add(self, client: Client) -> None:
        self.by_project.setdefault(client.project, set()).add(client)
        client.writer = asyncio.create_task(client.write_loop(), name=f"ws-writer-{client.user}")

    async def remove(self, client: Client) -> None:
        self.by_project.get(client.project, set()).discard(client)
        for stream in list(client.watching):
            self._unwatch(client, stream)
        if client.writer is not None:
            client.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await client.writer

    def watch(self, client: Client, streams: Iterable[str]) -> set[str]:
        """Sets the item streams a client watches; returns the streams whose viewers changed."""
        wanted = set(streams)
        changed = wanted ^ client.watching
        for stream in client.watching - wanted:
            self._unwatch(client, stream)
        for stream in wanted - client.watching:
            self.watchers.setdefault(stream, set()).add(client)
            client.watching.add(stream)
        for stream in changed:
            self.push_presence(stream)
        return changed

    def _unwatch(self, client: Client, stream: str) -> None:
        client.watching.discard(stream)
        viewers = self.watchers.get(stream)
        if viewers is not None:
            viewers.discard(client)
            if not viewers:
                del self.watchers[stream]

    def push_presence(self, stream: str) -> None:
        viewers = self.watchers.get(stream, set())
        names = sorted({c.user for c in viewers})
        message = frame("presence", stream=stream, viewers=names)
        for client in viewers:
            client.push(message)

    def visible(self, client: Client, recorded: Recorded) -> bool:
        """Whether a client may see an event (the same rule for catch-up and live)."""
        stream = recorded.stream
        if client.full_view:
            return True
        if stream.startswith("item-"):
            return stream in client.watching
        if stream.startswith("queue-"):
            event = recorded.event
            return (
                getattr(event, "session_id", None) == client.session
                or getattr(event, "labeler", None) == client.user
            )
        if stream.startswith("project-"):
            return recorded.event.__class__.__name__ != "ItemsImported"
        return True

    def counts(self, project_id: str, project: ProjectState) -> dict[str, int]:
        """`queue_counts(project)` of a project of the live workspace, without a scan."""
        counts = self._counts.get(project_id)
        if counts is None or counts.project is not project:
            counts = self._counts[project_id] = QueueCounts(project)
        return counts.as_dict()

    def publish(self, recorded: Recorded, workspace: Workspace) -> None:
        """Hands one folded event to every client that may see it, encoded once."""
        project_id = recorded.stream.split("-", 2)[1]
        counts = self._counts.get(project_id)
        if counts is not None:
            counts.update(recorded)
        clients = self.by_project.get(project_id)
        if not clients:
            return
        encoded: str | None = None
        if recorded.stream.startswith("item-"):
            recipients: Iterable[Client] = {
                *self.watchers.get(recorded.stream, ()),
                *(c for c in clients if c.full_view),
            }
        else:
            recipients = [c for c in clients if self.visible(c, recorded)]
        for client in recipients:
            if encoded is None:
                encoded = event_frame(recorded)
            client.deliver(recorded.seq, encoded)
        project = workspace.projects.get(project_id)
        if project is None:
            return
        if isinstance(recorded.event, QUEUE_SESSION_EVENTS):
            self._push_pages(recorded, project, clients, self.counts(project_id, project))
            self._dirty.add(project_id)
        elif recorded.stream.startswith(("project-", "assist-")):
            self._dirty.add(project_id)

    def _push_pages(
        self,
        recorded: Recorded,
        project: ProjectState,
        clients: Iterable[Client],
        counts: dict[str, int],
    ) -> None:
        event = recorded.event
        session_id = getattr(event, "session_id", None)
        for client in clients:
            if client.session != session_id:
                continue
            if isinstance(event, SessionExpired):
                client.push(
                    frame(
                        "notice",
                        kind="reassigned",
                        message="Your lease lapsed while you were away: your page went back "
                        "to the queue and may be handed to someone else. Ask for a new page.",
                    )
                )
            elif isinstance(event, QueueExhausted):
                client.push(
                    frame(
                        "notice",
                        kind="finished",
                        message="There is nothing left to label in this project.",
                    )
                )
            client.push(page_frame(project, client.session, counts))

    async def _progress_loop(self) -> None:
        while True:
            await asyncio.sleep(self.progress_interval)
            if not self._dirty:
                continue
            dirty, self._dirty = self._dirty, set()
            workspace = self._workspace_of()
            for project_id in dirty:
                project = workspace.projects.get(project_id)
                if project is None:
                    continue
                message = progress_frame(project_id, project, self.counts(project_id, project))
                for client in self.by_project.get(project_id, ()):
                    client.push(message)

    def warn_leases(self, workspace: Workspace, now: float, warning: float) -> None:
        """Tells clients whose lease lapses within `warning` seconds, once per lease."""
        for project_id, clients in self.by_project.items():
            project = workspace.projects.get(project_id)
            if project is None:
                continue
            for client in clients:
                session = project.queue.sessions.get(client.session)
                if session is None or not session.open or not session.page:
                    continue
                left = session.lease_until - now
                if 0 < left <= warning and client.warned_until != session.lease_until:
                    client.warned_until = session.lease_until
                    client.push(
                        frame(
                            "notice",
                            kind="lease_warning",
                            message=f"Your lease lapses in {int(left)} s: "
                            "keep this tab open or submit.",
                            lease_until=session.lease_until,
                        )
                    )


def page_frame(project: ProjectState, session_id: str, counts: dict[str, int] | None = None) -> str:
    session = project.queue.sessions.get(session_id)
    items = project.queue.page_of(session_id)
    until = session.lease_until if session is not None and session.open else None
    return frame(
        "page",
        items=items,
        lease_until=until,
        counts=queue_counts(project) if counts is None else counts,
    )


def queue_counts(project: ProjectState) -> dict[str, int]:
    queue = project.queue
    prelabeled = sum(
        1
        for item in queue.open_items
        if (s := project.annotations.get(item)) is not None and s.latest_proposal
    )
    clustered = 0
    if project.clusters is not None:
        clustered = sum(
            1
            for cluster in project.clusters.clusters
            for item in cluster
            if item in queue.open_items
        )
    return {
        "open": len(queue.open_items),
        "held": len(queue.holders),
        "prelabeled": prelabeled,
        "clustered": clustered,
        "done": project.progress.done,
        "total": project.progress.items,
    }


def progress_frame(
    project_id: str, project: ProjectState, counts: dict[str, int] | None = None
) -> str:
    return frame(
        "progress",
        project=project_id,
        progress=project.progress,
        counts=queue_counts(project) if counts is None else counts,
    )


class QueueCounts:
    """`queue_counts` of one live project, kept up to date from each folded event.

    Counting prelabeled and clustered items by a scan of the open items costs milliseconds
    on a large project, and the counts go out with every page. The items that can change
    them are few and known: an item opens only by import, closes only by a submit, gets a
    proposal only by PrelabelProposed; clusters change only by ItemsClustered.
    """

    def __init__(self, project: ProjectState) -> None:
        self.project = project
        queue = project.queue
        self.prelabeled = {item for item in queue.open_items if _proposed(project, item)}
        self.multiplicity: dict[str, int] = {}
        self.clustered_open: set[str] = set()
        self.clustered = 0
        self._rebuild_clusters()

    def _rebuild_clusters(self) -> None:
        multiplicity: dict[str, int] = {}
        if self.project.clusters is not None:
            for cluster in self.project.clusters.clusters:
                for item in cluster:
                    multiplicity[item] = multiplicity.get(item, 0) + 1
        open_items = self.project.queue.open_items
        self.multiplicity = multiplicity
        self.clustered_open = {item for item in multiplicity if item in open_items}
        self.clustered = sum(multiplicity[item] for item in self.clustered_open)

    def update(self, recorded: Recorded) -> None:
        """Takes in one event, already folded into the project."""
        event = recorded.event
        open_items = self.project.queue.open_items
        if isinstance(event, PageSubmitted):
            for item in event.items:
                if item not in open_items:
                    self.prelabeled.discard(item)
                    if item in self.clustered_open:
                        self.clustered_open.discard(item)
                        self.clustered -= self.multiplicity[item]
        elif isinstance(event, ItemsImported):
            for imported in event.items:
                item = imported.item_id
                if item not in open_items:
                    continue
                if _proposed(self.project, item):
                    self.prelabeled.add(item)
                if item in self.multiplicity and item not in self.clustered_open:
                    self.clustered_open.add(item)
                    self.clustered += self.multiplicity[item]
        elif isinstance(event, PrelabelProposed):
            item = recorded.stream.split("-", 2)[2]
            if item in open_items:
                self.prelabeled.add(item)
        elif isinstance(event, ItemsClustered):
            self._rebuild_clusters()

    def as_dict(self) -> dict[str, int]:
        project = self.project
        return {
            "open": len(project.queue.open_items),
            "held": len(project.queue.holders),
            "prelabeled": len(self.prelabeled),
            "clustered": self.clustered,
            "done": project.progress.done,
            "total": project.progress.items,
        }


def _proposed(project: ProjectState, item: str) -> bool:
    state = project.annotations.get(item)
    return state is not None and state.latest_proposal is not None
