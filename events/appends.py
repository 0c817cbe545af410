"""The rules of an append, shared by every backend: checked on entry, then planned per batch.

`prepare` refuses what can be refused without the log (stream name, event kinds, sizes).
`plan_batch` takes a group of prepared appends and decides, against the log's current
versions and event ids, what each one becomes: new envelopes, the original envelopes of a
retry, or an error of its own that does not affect the rest of the batch.
"""

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import get_args

import msgspec

from events.base import EventId
from events.codec import (
    MAX_BATCH_EVENTS,
    MAX_EVENT_BYTES,
    decode_event,
    decode_recorded,
    encode,
    payload_error,
)
from events.envelope import NewEvent, Recorded
from events.errors import (
    ConcurrencyError,
    DuplicateEventError,
    EventLogError,
    PayloadError,
    StreamError,
    StreamNotFound,
)
from events.project import ProjectCreated
from events.streams import ALLOWED, StreamName, parse_stream, project_stream
from events.vocabulary import EVENT_TAGS, AnyEvent

# Checked here too: msgspec checks constraints when it decodes, not when Python builds a NewEvent.
_EVENT_ID = re.compile(get_args(EventId)[1].pattern)


@dataclass(slots=True)
class Prepared:
    """An append that passed the checks that need no log."""

    stream: str
    name: StreamName
    events: Sequence[NewEvent]
    expected_version: int
    project_stream: str


# Stream names recur (every gesture on an item names its stream): parse each once.
_parse_stream = functools.lru_cache(maxsize=1 << 16)(parse_stream)
_match_event_id = _EVENT_ID.match


def prepare(stream: str, events: Sequence[NewEvent], expected_version: int) -> Prepared:
    """Checks an append's stream, size and event kinds; raises the error naming the fault."""
    name = _parse_stream(stream)
    count = len(events)
    if not count:
        raise PayloadError("at least one event is required", "$.events")
    if count > MAX_BATCH_EVENTS:
        raise PayloadError(f"{count} events; the limit is {MAX_BATCH_EVENTS}", "$.events")
    if expected_version < 0:
        raise PayloadError("expected_version must be >= 0", "$.expected_version")
    allowed = ALLOWED[name.category]
    for index, new in enumerate(events):
        kind = type(new.event)
        if kind not in allowed:
            if kind not in EVENT_TAGS:
                raise PayloadError(
                    f"{kind.__name__} is not an event of the vocabulary",
                    f"$.events[{index}].event",
                )
            raise StreamError(
                stream,
                f"events[{index}]: {EVENT_TAGS[kind]} does not belong on a {name.category} stream",
            )
        event_id = new.event_id
        if type(event_id) is not str or _match_event_id(event_id) is None:
            raise PayloadError(
                f"event_id {event_id!r} must match {_EVENT_ID.pattern}",
                f"$.events[{index}].event_id",
            )
        if kind is ProjectCreated:
            if new.event.project_id != name.project:  # type: ignore[union-attr]
                raise PayloadError(
                    f"project_id {new.event.project_id} does not match stream {stream}",  # type: ignore[union-attr]
                    f"$.events[{index}].event.project_id",
                )
            if index > 0:
                raise StreamError(stream, "project.created must be the stream's first event")
    if count > 1:
        seen: set[str] = set()
        for index, new in enumerate(events):
            if new.event_id in seen:
                raise PayloadError(
                    f"event_id {new.event_id} appears twice in one append",
                    f"$.events[{index}].event_id",
                )
            seen.add(new.event_id)
    return Prepared(stream, name, events, expected_version, project_stream(name.project))


@dataclass(slots=True)
class Row:
    """One new event ready to write: its envelope and the envelope's stored bytes."""

    recorded: Recorded
    body: bytes
    tag: str


Outcome = list[Recorded] | EventLogError


@dataclass(slots=True)
class BatchPlan:
    """What a group commit writes, what each append gets back, and the versions it leaves."""

    rows: list[Row] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    last_seq: int = 0
    last_at: float = 0.0


def plan_batch(
    batch: Sequence[Prepared],
    *,
    last_seq: int,
    now: float,
    version_of: Callable[[str], int],
    existing: Callable[[Iterable[str]], dict[str, Recorded]],
) -> BatchPlan:
    """Decides every append of a group commit against the log as it stands.

    `version_of` reads a stream's committed version; `existing` finds committed envelopes by
    event id. Appends earlier in the batch count as committed for those later in it.
    """
    plan = BatchPlan(last_seq=last_seq, last_at=now)
    found = existing([new.event_id for prepared in batch for new in prepared.events])
    staged: dict[str, Recorded] = {}
    outcomes = plan.outcomes
    versions = plan.versions
    for prepared in batch:
        try:
            outcomes.append(_plan_one(prepared, plan, versions, version_of, found, staged, now))
        except EventLogError as exc:
            outcomes.append(exc)
    return plan


def _plan_one(
    prepared: Prepared,
    plan: BatchPlan,
    versions: dict[str, int],
    version_of: Callable[[str], int],
    found: dict[str, Recorded],
    staged: dict[str, Recorded],
    now: float,
) -> list[Recorded]:
    # This runs once per append of every group commit: kept flat, with the common case first.
    stream = prepared.stream
    events = prepared.events
    for new in events:
        if new.event_id in found or new.event_id in staged:
            originals = [found.get(e.event_id) or staged.get(e.event_id) for e in events]
            return _replay_of(prepared, originals)
    version = versions.get(stream)
    if version is None:
        version = version_of(stream)
    if version != prepared.expected_version:
        raise ConcurrencyError(stream, prepared.expected_version, version)
    name = prepared.name
    if name.category != "project":
        project = prepared.project_stream
        if (versions.get(project) or version_of(project)) == 0:
            raise StreamNotFound(stream, f"project {name.project} does not exist")
    elif version == 0:
        if type(events[0].event) is not ProjectCreated:
            raise StreamNotFound(stream, "the stream's first event must be project.created")
    elif any(type(new.event) is ProjectCreated for new in events):
        raise StreamError(stream, "project.created must be the stream's first event")
    rows = []
    seq = plan.last_seq
    for index, new in enumerate(events):
        seq += 1
        version += 1
        try:
            body = encode(
                Recorded(
                    seq=seq,
                    stream=stream,
                    version=version,
                    event_id=new.event_id,
                    actor=new.actor,
                    session=new.session,
                    at=now,
                    event=new.event,
                )
            )
        except (TypeError, ValueError, OverflowError) as exc:
            # A value msgspec cannot write (a lone surrogate, an object): this append's fault,
            # not the batch's, so it must not fail the group commit it shares.
            raise PayloadError(f"cannot encode: {exc}", f"$.events[{index}]") from exc
        if len(body) > MAX_EVENT_BYTES:
            raise PayloadError(
                f"event is {len(body)} bytes encoded; the limit is {MAX_EVENT_BYTES}",
                f"$.events[{index}]",
            )
        # Decoding what will be stored checks every constraint of the type even for events
        # built in Python (which msgspec does not validate), so the log never holds a body
        # that a replay could not read; it also gives every backend the same normalized values.
        try:
            recorded = decode_recorded(body)
        except msgspec.ValidationError as exc:
            raise payload_error(exc, f"$.events[{index}]") from exc
        rows.append(Row(recorded, body, EVENT_TAGS[type(new.event)]))
    plan.rows += rows
    plan.last_seq = seq
    versions[stream] = version
    recorded_events = []
    for row in rows:
        staged[row.recorded.event_id] = row.recorded
        recorded_events.append(row.recorded)
    return recorded_events


def _replay_of(prepared: Prepared, originals: list[Recorded | None]) -> list[Recorded]:
    """The original envelopes of a retried append, or the error when it is not a retry."""
    for new, original in zip(prepared.events, originals, strict=True):
        if original is None:
            raise DuplicateEventError(
                next(o.event_id for o in originals if o is not None),
                "already in the log, but this append also carries new events; "
                "retry the original append unchanged",
            )
        if original.stream != prepared.stream or original.event != _normalized(new.event):
            raise DuplicateEventError(
                new.event_id, "already in the log with a different stream or payload"
            )
    return [original for original in originals if original is not None]


def _normalized(event: AnyEvent) -> AnyEvent | None:
    """An event as the log would store it (tuples for points, floats for coordinates)."""
    try:
        return decode_event(encode(event))
    except (TypeError, ValueError, OverflowError, msgspec.DecodeError):
        return None
