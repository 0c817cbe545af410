"""Stream names: which stream an event lives on, and which events each kind of stream takes."""

import re
from dataclasses import dataclass
from typing import Literal

from events.annotation import ANNOTATION_EVENTS
from events.assist import ASSIST_EVENTS, PrelabelProposed
from events.base import Event
from events.errors import StreamError
from events.project import PROJECT_EVENTS
from events.queue import QUEUE_EVENTS

Category = Literal["project", "queue", "assist", "item"]

_STREAM = re.compile(
    r"^(?:(?P<cat>project|queue|assist)-(?P<p1>[a-z0-9][a-z0-9_]{0,39})"
    r"|item-(?P<p2>[a-z0-9][a-z0-9_]{0,39})-(?P<item>[A-Za-z0-9][A-Za-z0-9_.-]{0,63}))$"
)

ALLOWED: dict[Category, frozenset[type[Event]]] = {
    "project": frozenset(PROJECT_EVENTS),
    "queue": frozenset(QUEUE_EVENTS),
    "assist": frozenset(set(ASSIST_EVENTS) - {PrelabelProposed}),
    "item": frozenset((*ANNOTATION_EVENTS, PrelabelProposed)),
}


@dataclass(frozen=True, slots=True)
class StreamName:
    """A parsed stream name: its kind, its project and, for item streams, the item."""

    category: Category
    project: str
    item: str | None = None

    def __str__(self) -> str:
        if self.item is not None:
            return f"item-{self.project}-{self.item}"
        return f"{self.category}-{self.project}"


def parse_stream(name: str) -> StreamName:
    """Parses a stream name, refusing one that names no known kind of stream."""
    match = _STREAM.match(name)
    if match is None:
        raise StreamError(
            name,
            "stream must be project-<p>, queue-<p>, assist-<p> or item-<p>-<item> "
            "(p: a-z, 0-9, _; item: A-Z, a-z, 0-9, _ . -)",
        )
    if match["cat"] is not None:
        category: Category = match["cat"]  # type: ignore[assignment]
        return StreamName(category, match["p1"])
    return StreamName("item", match["p2"], match["item"])


def project_stream(project: str) -> str:
    return f"project-{project}"


def queue_stream(project: str) -> str:
    return f"queue-{project}"


def assist_stream(project: str) -> str:
    return f"assist-{project}"


def item_stream(project: str, item: str) -> str:
    return f"item-{project}-{item}"
