"""The envelope: an event as the log recorded it, and an event on its way in."""

import msgspec

from events.base import EventId
from events.vocabulary import AnyEvent


class Recorded(msgspec.Struct, frozen=True, kw_only=True):
    """An event in the log: global `seq`, per-stream `version`, who, when (server-stamped)."""

    seq: int
    stream: str
    version: int
    event_id: str
    actor: str
    session: str
    at: float
    event: AnyEvent


class NewEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event to append; `event_id` is made by the client so that a retry is harmless."""

    event_id: EventId
    event: AnyEvent
    actor: str = ""
    session: str = ""


class IncomingEvent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An event as a client sends it: the server adds actor and session from the sign-in."""

    event_id: EventId
    event: AnyEvent
