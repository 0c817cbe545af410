"""The JSON frames the server pushes over a websocket: events, pages, progress and the rest."""

from typing import Any

from events.codec import encode_json
from events.envelope import Recorded
from events.projections.workspace import ProjectState
from server.queue_counts import queue_counts


def event_frame(recorded: Recorded) -> str:
    """The frame carrying one recorded event, as a client receives it in catch-up and live."""
    return '{"type":"event","data":' + encode_json(recorded).decode() + "}"


def frame(frame_type: str, **fields: Any) -> str:
    """A frame of the given type with the given fields (notices, presence, errors and the rest)."""
    return encode_json({"type": frame_type, **fields}).decode()


def page_frame(project: ProjectState, session_id: str, counts: dict[str, int] | None = None) -> str:
    """The frame telling a session its page, its lease and the queue's counts."""
    session = project.queue.sessions.get(session_id)
    items = project.queue.page_of(session_id)
    until = session.lease_until if session is not None and session.open else None
    return frame(
        "page",
        items=items,
        lease_until=until,
        counts=queue_counts(project) if counts is None else counts,
    )


def progress_frame(
    project_id: str, project: ProjectState, counts: dict[str, int] | None = None
) -> str:
    """The frame telling a project's clients its progress and the queue's counts."""
    return frame(
        "progress",
        project=project_id,
        progress=project.progress,
        counts=queue_counts(project) if counts is None else counts,
    )
