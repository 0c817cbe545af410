"""The work queue of one project: sessions and their leases, who holds which item, who is done.

Leases are times stamped by the server into events (`lease_until`), so expiry can be judged
after a restart from the log alone.
"""

from collections.abc import Mapping, Sequence

import msgspec

from events.queue import (
    ItemSkipped,
    ItemsReleased,
    PageAssigned,
    PageSubmitted,
    QueueEvent,
    QueueExhausted,
    SessionClosed,
    SessionExpired,
    SessionOpened,
    SessionRenewed,
)


class Session(msgspec.Struct, kw_only=True):
    user: str
    lease_until: float
    open: bool = True
    page: list[str] = []


class QueueState(msgspec.Struct, kw_only=True):
    """Who holds, has submitted or has skipped each item; items not yet done, in import order."""

    sessions: dict[str, Session] = {}
    holders: dict[str, dict[str, str]] = {}
    submitted: dict[str, list[str]] = {}
    skipped: dict[str, list[str]] = {}
    open_items: dict[str, None] = {}
    exhausted: dict[str, float] = {}
    version: int = 0

    def add_item(self, item: str) -> None:
        if item not in self.submitted:
            self.open_items[item] = None

    def page_of(self, session_id: str) -> list[str]:
        session = self.sessions.get(session_id)
        return list(session.page) if session is not None and session.open else []

    def available_for(
        self,
        labeler: str,
        overlap: int,
        limit: int,
        taken: Mapping[str, Sequence[str]] | None = None,
    ) -> list[str]:
        """Items this labeler may be handed now: not done, not theirs before, not fully held
        (counting `taken`: items handed out but not folded in yet, and to whom)."""
        found: list[str] = []
        submitted_of, holders_of, skipped_of = (
            self.submitted.get,
            self.holders.get,
            self.skipped.get,
        )
        taken_of = (taken or {}).get
        for item in self.open_items:
            submitted = submitted_of(item, ())
            holders = holders_of(item)
            if holders is not None:
                if len(submitted) + len(holders) >= overlap or labeler in holders.values():
                    continue
            elif len(submitted) >= overlap:
                continue
            if labeler in submitted:
                continue
            also = taken_of(item)
            if also is not None:
                held = 0 if holders is None else len(holders)
                if len(submitted) + held + len(also) >= overlap or labeler in also:
                    continue
            if labeler in skipped_of(item, ()):
                continue
            found.append(item)
            if len(found) == limit:
                break
        return found

    def expired_sessions(self, now: float) -> list[str]:
        """Open sessions whose lease lapsed before `now`."""
        return [sid for sid, s in self.sessions.items() if s.open and s.lease_until < now]


def evolve_queue(queue: QueueState, event: QueueEvent, at: float, overlap: int) -> None:
    """Folds one event of the project's queue stream into its state."""
    match event:
        case SessionOpened(session_id=sid, user=user, lease_until=until):
            queue.sessions[sid] = Session(user=user, lease_until=until)
        case SessionRenewed(session_id=sid, lease_until=until):
            session = queue.sessions.get(sid)
            if session is not None:
                session.lease_until = max(session.lease_until, until)
        case SessionClosed(session_id=sid) | SessionExpired(session_id=sid):
            session = queue.sessions.get(sid)
            if session is not None:
                _release(queue, sid, list(session.page))
                session.open = False
        case PageAssigned(session_id=sid, labeler=labeler, items=items, lease_until=until):
            session = queue.sessions.get(sid)
            if session is None:
                session = queue.sessions[sid] = Session(user=labeler, lease_until=until)
            session.lease_until = max(session.lease_until, until)
            for item in items:
                queue.holders.setdefault(item, {})[sid] = labeler
                if item not in session.page:
                    session.page.append(item)
            queue.exhausted.pop(labeler, None)
        case ItemsReleased(session_id=sid, items=items):
            _release(queue, sid, items)
        case ItemSkipped(session_id=sid, labeler=labeler, item=item):
            _release(queue, sid, [item])
            skipped = queue.skipped.setdefault(item, [])
            if labeler not in skipped:
                skipped.append(labeler)
        case PageSubmitted(session_id=sid, labeler=labeler, items=items):
            _release(queue, sid, items)
            for item in items:
                submitted = queue.submitted.setdefault(item, [])
                if labeler not in submitted:
                    submitted.append(labeler)
                if len(submitted) >= overlap:
                    queue.open_items.pop(item, None)
        case QueueExhausted(labeler=labeler):
            queue.exhausted[labeler] = at


def _release(queue: QueueState, session_id: str, items: list[str]) -> None:
    session = queue.sessions.get(session_id)
    for item in items:
        holders = queue.holders.get(item)
        if holders is not None:
            holders.pop(session_id, None)
            if not holders:
                del queue.holders[item]
        if session is not None and item in session.page:
            session.page.remove(item)
