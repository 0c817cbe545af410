"""Duplicate hand-outs of a labelers benchmark run, from the log and the labelers' pages."""

from labeler_loop import OVERLAP, PROJECT, Labeler

from events.codec import decode_recorded
from events.queue import (
    ItemSkipped,
    ItemsReleased,
    PageAssigned,
    PageSubmitted,
    SessionClosed,
    SessionExpired,
)


def duplicates_in_log(bodies: list[bytes], labelers: list[Labeler]) -> int:
    """Items held by more sessions at once than the overlap, or handed twice to one labeler,
    from the log; plus items that were on more than `overlap` labelers' pages, as they saw it
    (no item is skipped or expires here, so each item should reach exactly one labeler)."""
    bad: set[str] = set()
    holders: dict[str, set[str]] = {}
    pages: dict[str, set[str]] = {}
    handed: dict[str, set[str]] = {}
    submitted: dict[str, int] = {}
    queue = f"queue-{PROJECT}"
    for body in bodies:
        recorded = decode_recorded(body)
        if recorded.stream != queue:
            continue
        event = recorded.event
        if isinstance(event, PageAssigned):
            for item in event.items:
                held = holders.setdefault(item, set())
                held.add(event.session_id)
                pages.setdefault(event.session_id, set()).add(item)
                who = handed.setdefault(item, set())
                if event.labeler in who:
                    bad.add(item)
                who.add(event.labeler)
                if len(held) + submitted.get(item, 0) > OVERLAP:
                    bad.add(item)
        elif isinstance(event, ItemsReleased | PageSubmitted):
            for item in event.items:
                holders.get(item, set()).discard(event.session_id)
                pages.get(event.session_id, set()).discard(item)
                if isinstance(event, PageSubmitted):
                    submitted[item] = submitted.get(item, 0) + 1
        elif isinstance(event, ItemSkipped):
            holders.get(event.item, set()).discard(event.session_id)
            pages.get(event.session_id, set()).discard(event.item)
        elif isinstance(event, SessionClosed | SessionExpired):
            for item in pages.pop(event.session_id, set()):
                holders.get(item, set()).discard(event.session_id)
    seen_by: dict[str, set[str]] = {}
    for labeler in labelers:
        for page in labeler.pages:
            for item in page:
                seen_by.setdefault(item, set()).add(labeler.name)
    bad.update(item for item, names in seen_by.items() if len(names) > OVERLAP)
    bad.update(item for item, count in submitted.items() if count > OVERLAP)
    return len(bad)
