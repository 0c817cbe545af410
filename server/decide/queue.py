"""Decisions of the work queue: hand out pages, take submits and skips, renew and end leases.

Each function reads the project's projected state and returns the events to append to the
project's queue stream, or raises the error to answer. They do no I/O: the caller appends
with the queue stream's version as expected version, so two decisions taken on the same
state cannot both land.
"""

from collections.abc import Mapping, Sequence

from events.projections.drafts import Draft
from events.projections.workspace import ProjectState
from events.queue import (
    ItemSkipped,
    PageAssigned,
    PageSource,
    PageSubmitted,
    QueueEvent,
    QueueExhausted,
    SessionClosed,
    SessionExpired,
    SessionOpened,
    SessionRenewed,
)
from server.errors import LeaseLost, Unprocessable

CLASSIFICATION = {"image_multiclass", "text_multiclass", "image_multilabel", "text_multilabel"}
ASSISTED_WINDOW = 2_000


def open_lease(
    project: ProjectState, session_id: str, labeler: str, now: float
) -> list[QueueEvent]:
    """Opens (or reopens) the labeler's session on this project's queue if it is not open."""
    session = project.queue.sessions.get(session_id)
    if session is not None and session.open and session.lease_until >= now:
        return []
    until = now + project.settings.lease_seconds
    return [SessionOpened(session_id=session_id, user=labeler, lease_until=until)]


def next_page(
    project: ProjectState,
    session_id: str,
    labeler: str,
    now: float,
    page_size: int | None = None,
    taken: Mapping[str, Sequence[str]] | None = None,
) -> list[QueueEvent]:
    """Events that give the labeler a page: their unfinished one if any, else fresh items
    (`taken`: items just handed out by decisions not yet folded in, and to whom)."""
    events = open_lease(project, session_id, labeler, now)
    session = project.queue.sessions.get(session_id)
    if not events and session is not None and session.page:
        return []
    size = page_size or project.settings.page_size
    # Once the assistant has proposed or clustered, look much further than the next few
    # items in import order: a cluster's members and the proposed items are spread out.
    assisted = bool(project.models) or project.clusters is not None
    window = ASSISTED_WINDOW if assisted else 10 * size
    candidates = project.queue.available_for(labeler, project.settings.overlap, window, taken)
    items, source = order_for_page(project, candidates, size)
    if not items:
        return [*events, QueueExhausted(session_id=session_id, labeler=labeler)]
    until = now + project.settings.lease_seconds
    return [
        *events,
        PageAssigned(
            session_id=session_id, labeler=labeler, items=items, lease_until=until, source=source
        ),
    ]


def order_for_page(
    project: ProjectState, candidates: list[str], size: int
) -> tuple[list[str], PageSource]:
    """Picks a page: items with the assistant's proposals first, then one cluster's items
    together, then the rest in import order."""
    prelabeled = [item for item in candidates if _proposal(project, item)]
    if prelabeled:
        return prelabeled[:size], "prelabeled"
    clusters = project.clusters
    if clusters is not None:
        open_items = set(candidates)
        for cluster in clusters.clusters:
            members = [item for item in cluster if item in open_items]
            if members:
                return members[:size], "clustered"
    return candidates[:size], "manual"


def _proposal(project: ProjectState, item: str) -> bool:
    state = project.annotations.get(item)
    return state is not None and state.latest_proposal is not None


def held_page(project: ProjectState, session_id: str, now: float) -> list[str]:
    """The session's page, or LeaseLost when it has lapsed or was handed on."""
    session = project.queue.sessions.get(session_id)
    if session is None or not session.open:
        raise LeaseLost(
            "your session on this project ended (timed out or signed out); "
            "its items went back to the queue — ask for a new page",
            field="session",
        )
    if session.lease_until < now:
        raise LeaseLost(
            "your lease lapsed; the page is being handed to someone else — ask for a new page",
            field="session",
        )
    return session.page


def require_on_page(project: ProjectState, session_id: str, item: str, now: float) -> None:
    if item not in held_page(project, session_id, now):
        raise LeaseLost(f"item {item} is not on your page", field="item")


def incomplete_reason(project_type: str, draft: Draft) -> str | None:
    """Why a draft cannot be submitted under the project type's rule, or None when it can."""
    if project_type in {"image_multiclass", "text_multiclass"}:
        if len(draft.tags) != 1:
            return f"needs exactly one tag (has {len(draft.tags)})"
    elif project_type in {"image_multilabel", "text_multilabel"}:
        if not draft.tags:
            return "needs at least one tag"
    else:
        untagged = [r.region_id for r in draft.regions.values() if r.tag is None]
        if untagged:
            return f"regions without a tag: {', '.join(untagged)}"
    return None


def submit_page(
    project: ProjectState,
    session_id: str,
    labeler: str,
    items: Sequence[str] | None,
    now: float,
) -> list[QueueEvent]:
    """Submits the page (or the given items of it) once each item's draft is complete."""
    page = held_page(project, session_id, now)
    chosen = list(page if items is None else items)
    if not chosen:
        raise Unprocessable("there is nothing on your page to submit", field="items")
    for index, item in enumerate(chosen):
        if item not in page:
            raise LeaseLost(f"item {item} is not on your page", field=f"items[{index}]")
        state = project.annotations.get(item)
        draft = state.draft_of(labeler) if state is not None else Draft()
        reason = incomplete_reason(project.settings.project_type, draft)
        if reason is not None:
            raise Unprocessable(f"item {item} {reason}", field=f"items[{index}]", item=item)
    return [PageSubmitted(session_id=session_id, labeler=labeler, items=chosen)]


def skip_item(
    project: ProjectState, session_id: str, labeler: str, item: str, now: float
) -> list[QueueEvent]:
    require_on_page(project, session_id, item, now)
    return [ItemSkipped(session_id=session_id, labeler=labeler, item=item)]


def renew(
    project: ProjectState, session_id: str, now: float, record_every: float
) -> list[QueueEvent]:
    """A renewal to record for a heartbeat, at most once per `record_every` seconds.

    A lease shorter than that is recorded every half lease instead, or no heartbeat could
    ever keep it (a 10 s lease with 30 s between records lapses while the client beats).
    """
    session = project.queue.sessions.get(session_id)
    if session is None or not session.open or session.lease_until < now:
        return []
    lease = project.settings.lease_seconds
    until = now + lease
    if until - session.lease_until < min(record_every, lease / 2):
        return []
    return [SessionRenewed(session_id=session_id, lease_until=until)]


def sign_out(project: ProjectState, session_id: str) -> list[QueueEvent]:
    session = project.queue.sessions.get(session_id)
    if session is None or not session.open:
        return []
    return [SessionClosed(session_id=session_id)]


def expire(project: ProjectState, now: float) -> list[QueueEvent]:
    """Ends every session whose lease lapsed; their pages go back to the queue."""
    return [SessionExpired(session_id=sid) for sid in project.queue.expired_sessions(now)]
