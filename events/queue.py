"""Events of a project's work-queue stream (`queue-<project>`): sessions, pages and leases."""

from typing import Annotated, Literal

from msgspec import Meta

from events.base import Event, ItemId, SessionId, Timestamp, UserName

ItemList = Annotated[list[ItemId], Meta(min_length=1, max_length=100)]
ReleaseReason = Literal["timeout", "sign_out", "layout_switch", "admin"]
PageSource = Literal["manual", "clustered", "prelabeled"]


class SessionOpened(Event, frozen=True, kw_only=True, tag="queue.session_opened"):
    session_id: SessionId
    user: UserName
    lease_until: Timestamp


class SessionRenewed(Event, frozen=True, kw_only=True, tag="queue.session_renewed"):
    """A heartbeat, recorded coarsely (not every ping) so that leases survive a restart."""

    session_id: SessionId
    lease_until: Timestamp


class SessionClosed(Event, frozen=True, kw_only=True, tag="queue.session_closed"):
    """The labeler signed out."""

    session_id: SessionId


class SessionExpired(Event, frozen=True, kw_only=True, tag="queue.session_expired"):
    """The session stopped heart-beating past its lease."""

    session_id: SessionId


class PageAssigned(Event, frozen=True, kw_only=True, tag="queue.page_assigned"):
    session_id: SessionId
    labeler: UserName
    items: ItemList
    lease_until: Timestamp
    source: PageSource = "manual"


class ItemsReleased(Event, frozen=True, kw_only=True, tag="queue.items_released"):
    """Items leave a session's page and go back to the queue."""

    session_id: SessionId
    labeler: UserName
    items: ItemList
    reason: ReleaseReason


class ItemSkipped(Event, frozen=True, kw_only=True, tag="queue.item_skipped"):
    """The labeler passed on an item: it leaves their page and is not handed to them again."""

    session_id: SessionId
    labeler: UserName
    item: ItemId


class PageSubmitted(Event, frozen=True, kw_only=True, tag="queue.page_submitted"):
    """The labeler's drafts of these items become their submitted results."""

    session_id: SessionId
    labeler: UserName
    items: ItemList


class QueueExhausted(Event, frozen=True, kw_only=True, tag="queue.exhausted"):
    """The labeler asked for work and none was left for them."""

    session_id: SessionId
    labeler: UserName


QueueEvent = (
    SessionOpened
    | SessionRenewed
    | SessionClosed
    | SessionExpired
    | PageAssigned
    | ItemsReleased
    | ItemSkipped
    | PageSubmitted
    | QueueExhausted
)
QUEUE_EVENTS: tuple[type[Event], ...] = (
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
