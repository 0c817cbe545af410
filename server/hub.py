"""The websocket fan-out: who gets which event, pushed to each client's own bounded queue.

The live model calls `publish` once per folded event. The hub encodes the event once, picks
the clients that may see it (the project's admins and auditors see everything; a labeler
sees the items they watch and their own queue), and queues the frame for each. How a
client's queue is bounded and written: server/ws_client.py.
"""

import asyncio
import contextlib
from collections.abc import Callable, Iterable

from events.envelope import Recorded
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
from server.frames import event_frame, frame, page_frame, progress_frame
from server.queue_counts import QueueCounts
from server.ws_client import Client

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
