"""Bad input is refused with an error naming the field, and the log is unchanged afterwards.

Wire bytes go through `decode_incoming_json` (what the server does with a client's append);
events built in Python go straight to the store, which checks every constraint itself.
"""

import asyncio
import math
from typing import Any

import msgspec
import pytest

from events.annotation import BoxDrawn, BrushPainted, PolygonDrawn, SpanTagged, TagApplied
from events.codec import (
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    MAX_EVENT_BYTES,
    decode_incoming_json,
    decode_recorded,
    encode,
    encode_json,
    payload_error,
)
from events.envelope import IncomingEvent, NewEvent, Recorded
from events.errors import EventLogError, PayloadError, StreamError, StreamNotFound
from events.project import InstructionsUpdated
from tests.events.conftest import Store, create_project, new, read_everything, tagged


class Snapshot(msgspec.Struct, frozen=True):
    last_seq: int
    log: list[Recorded]
    versions: dict[str, int]


STREAMS = ("project-p", "item-p-a", "item-p-b", "queue-p")


async def snapshot(store: Store) -> Snapshot:
    versions = {stream: await store.stream_version(stream) for stream in STREAMS}
    return Snapshot(await store.last_seq(), await read_everything(store), versions)


@pytest.fixture
async def seeded(store: Store) -> Store:
    """A store with a project and an item already written, so 'unchanged' means something."""
    await create_project(store)
    await store.append("item-p-a", [tagged("a1"), tagged("a2")], 0)
    return store


async def submit(store: Store, stream: str, body: bytes, expected_version: int) -> list[Recorded]:
    """What the server does with a client's append: decode the wire bytes, then append."""
    incoming = decode_incoming_json(body)
    events = [NewEvent(event_id=i.event_id, event=i.event, actor="ann") for i in incoming]
    return await store.append(stream, events, expected_version)


def wire(*events: dict[str, Any]) -> bytes:
    return encode_json([{"event_id": f"w{i}", "event": e} for i, e in enumerate(events)])


BOX = {"type": "annotation.box_drawn", "region_id": "r1", "x": 1, "y": 2, "w": 3, "h": 4}


# Wire bytes: (body, the error's path, words its message must contain)
WIRE_CASES: dict[str, tuple[bytes, str, str]] = {
    "not utf-8": (b"\xff\xfe\x00\x01", "$", "malformed"),
    "not json": (b"[{events: [", "$", "malformed"),
    "truncated": (wire(BOX)[:-3], "$", "truncated"),
    "an object, not a list": (b'{"event_id": "w0"}', "$", "array"),
    "empty list": (b"[]", "$", "at least one event"),
    "unknown event type": (
        wire({"type": "annotation.laser_drawn", "x": 1}),
        "$[0].event.type",
        "annotation.laser_drawn",
    ),
    "no event type": (wire({"tag": "cat"}), "$[0].event", "`type`"),
    "unknown envelope field": (
        b'[{"event_id": "w0", "actor": "root", "event": {"type": "annotation.tag_applied",'
        b' "tag": "cat"}}]',
        "$[0]",
        "`actor`",
    ),
    "bad event id": (
        b'[{"event_id": "../x", "event": {"type": "annotation.tag_applied", "tag": "cat"}}]',
        "$[0].event_id",
        "regex",
    ),
    "negative coordinate": (wire({**BOX, "x": -1}), "$[0].event.x", ">= 0.0"),
    "coordinate out of range": (wire({**BOX, "y": 1e300}), "$[0].event.y", "<= 100000"),
    "zero width": (wire({**BOX, "w": 0}), "$[0].event.w", "> 0.0"),
    "string coordinate": (wire({**BOX, "h": "4"}), "$[0].event.h", "`float`"),
    "missing field": (
        wire({"type": "annotation.box_drawn", "region_id": "r1", "x": 1, "y": 2, "w": 3}),
        "$[0].event",
        "`h`",
    ),
    "polygon of 2 points": (
        wire({"type": "annotation.polygon_drawn", "region_id": "p", "points": [[1, 1], [2, 2]]}),
        "$[0].event.points",
        "length >= 3",
    ),
    "point of 3 numbers": (
        wire(
            {
                "type": "annotation.polygon_drawn",
                "region_id": "p",
                "points": [[1, 1], [2, 2], [3, 3, 3]],
            }
        ),
        "$[0].event.points[2]",
        "length 2",
    ),
    "radius 0": (
        wire(
            {
                "type": "annotation.brush_painted",
                "stroke_id": "s",
                "tag": "cat",
                "radius": 0,
                "points": [[1, 1]],
            }
        ),
        "$[0].event.radius",
        "> 0.0",
    ),
    "span start == end": (
        wire(
            {
                "type": "annotation.span_tagged",
                "span_id": "s",
                "tag": "PER",
                "start": 5,
                "end": 5,
            }
        ),
        "$[0].event",
        "span start (5) must be less than end (5)",
    ),
    "span start > end": (
        wire(
            {
                "type": "annotation.span_tagged",
                "span_id": "s",
                "tag": "PER",
                "start": 9,
                "end": 2,
            }
        ),
        "$[0].event",
        "span start (9)",
    ),
    "negative span start": (
        wire(
            {
                "type": "annotation.span_tagged",
                "span_id": "s",
                "tag": "PER",
                "start": -1,
                "end": 2,
            }
        ),
        "$[0].event.start",
        ">= 0",
    ),
    "tag key 10": (
        wire({"type": "project.tag_added", "tag": {"name": "cat", "colour": "#ff0000", "key": 10}}),
        "$[0].event.tag.key",
        "<= 9",
    ),
    "bad in the second event": (
        wire(BOX, {**BOX, "region_id": "r2", "y": -3}),
        "$[1].event.y",
        ">= 0.0",
    ),
    "too many events": (
        wire(*[{"type": "annotation.tag_applied", "tag": "cat"}] * (MAX_BATCH_EVENTS + 1)),
        "$",
        f"the limit is {MAX_BATCH_EVENTS}",
    ),
    "body too large": (
        b"[" + b" " * MAX_BATCH_BYTES + b"]",
        "$",
        f"the limit is {MAX_BATCH_BYTES}",
    ),
}


@pytest.mark.parametrize("case", WIRE_CASES)
async def test_bad_wire_bytes_are_refused_naming_the_field(seeded: Store, case: str) -> None:
    body, path, words = WIRE_CASES[case]
    before = await snapshot(seeded)
    with pytest.raises(PayloadError) as caught:
        await submit(seeded, "item-p-a", body, 2)
    assert caught.value.path == path
    assert words in caught.value.message
    assert await snapshot(seeded) == before


async def test_good_wire_bytes_are_appended(seeded: Store) -> None:
    """The same path as the bad cases, with a good body: the refusals are not the decoder's."""
    [recorded] = await submit(seeded, "item-p-a", wire(BOX), 2)
    assert recorded.event == BoxDrawn(region_id="r1", x=1, y=2, w=3, h=4)
    assert recorded.version == 3


def test_nan_in_msgpack_is_refused_naming_the_field() -> None:
    box = {**BOX, "x": math.nan}
    decoder = msgspec.msgpack.Decoder(list[IncomingEvent])
    with pytest.raises(msgspec.ValidationError) as caught:
        decoder.decode(msgspec.msgpack.encode([{"event_id": "w0", "event": box}]))
    error = payload_error(caught.value)
    assert error.path == "$[0].event.x"

    stored = {
        "seq": 1,
        "stream": "item-p-a",
        "version": 1,
        "event_id": "w0",
        "actor": "ann",
        "session": "",
        "at": 1.0,
        "event": {**BOX, "w": math.inf},
    }
    with pytest.raises(msgspec.ValidationError, match=r"\$\.event\.w"):
        decode_recorded(msgspec.msgpack.encode(stored))


def test_nan_in_json_is_refused() -> None:
    # JSON has no NaN; a client that writes one sends malformed JSON, and msgspec writes null.
    with pytest.raises(PayloadError) as caught:
        decode_incoming_json(wire(BOX).replace(b'"x":1', b'"x":NaN'))
    assert "malformed" in caught.value.message
    with pytest.raises(PayloadError) as caught:
        decode_incoming_json(wire({**BOX, "x": math.nan}))
    assert caught.value.path == "$[0].event.x"


# Events built in Python: msgspec does not check constraints on construction, so the store does.

PYTHON_CASES: dict[str, tuple[list[NewEvent], str]] = {
    "NaN": (
        [new("b1", BoxDrawn(region_id="r", x=math.nan, y=1, w=1, h=1))],
        "$.events[0].event.x",
    ),
    "infinity": (
        [new("b1", BoxDrawn(region_id="r", x=1, y=math.inf, w=1, h=1))],
        "$.events[0].event.y",
    ),
    "negative coordinate in the second event": (
        [tagged("b0"), new("b1", BoxDrawn(region_id="r", x=1, y=1, w=-2, h=1))],
        "$.events[1].event.w",
    ),
    "polygon of 2 points": (
        [new("b1", PolygonDrawn(region_id="r", points=[(1, 1), (2, 2)]))],
        "$.events[0].event.points",
    ),
    "radius 0": (
        [new("b1", BrushPainted(stroke_id="s", tag="cat", radius=0, points=[(1, 1)]))],
        "$.events[0].event.radius",
    ),
    "empty tag": ([new("b1", TagApplied(tag=""))], "$.events[0].event.tag"),
    "bad event id": ([new("no spaces", TagApplied(tag="cat"))], "$.events[0].event_id"),
    "oversized event": (
        [new("b1", InstructionsUpdated(instructions="\U0001f600" * 100_000))],
        "$.events[0]",
    ),
    "too many events": ([tagged(f"b{i}") for i in range(MAX_BATCH_EVENTS + 1)], "$.events"),
    "no events": ([], "$.events"),
    "not an event": ([new("b1", msgspec.Struct())], "$.events[0].event"),  # type: ignore[arg-type]
    "unencodable value": ([new("b1", TagApplied(tag="cat\ud800"))], "$.events[0]"),
}


@pytest.mark.parametrize("case", PYTHON_CASES)
async def test_bad_events_are_refused_naming_the_field(seeded: Store, case: str) -> None:
    events, path = PYTHON_CASES[case]
    on_project = any(isinstance(e.event, InstructionsUpdated) for e in events)
    stream = "project-p" if on_project else "item-p-a"
    expected = 1 if stream == "project-p" else 2
    before = await snapshot(seeded)
    with pytest.raises(PayloadError) as caught:
        await seeded.append(stream, events, expected)
    assert caught.value.path == path, caught.value
    assert await snapshot(seeded) == before


def test_a_span_cannot_even_be_built_backwards() -> None:
    with pytest.raises(ValueError, match=r"span start \(5\) must be less than end \(5\)"):
        SpanTagged(span_id="s", tag="PER", start=5, end=5)


def test_the_oversized_case_is_really_over_the_limit() -> None:
    event = InstructionsUpdated(instructions="\U0001f600" * 100_000)
    assert len(encode(event)) > MAX_EVENT_BYTES
    assert len(encode(InstructionsUpdated(instructions="a" * 100_000))) < MAX_EVENT_BYTES


async def test_the_message_of_a_refusal_names_the_constraint(seeded: Store) -> None:
    with pytest.raises(PayloadError) as caught:
        await seeded.append(
            "item-p-a", [new("b1", PolygonDrawn(region_id="r", points=[(1, 1), (2, 2)]))], 2
        )
    assert str(caught.value) == "Expected `array` of length >= 3"
    with pytest.raises(PayloadError) as caught:
        await seeded.append(
            "project-p", [new("b1", InstructionsUpdated(instructions="\U0001f600" * 100_000))], 1
        )
    assert f"the limit is {MAX_EVENT_BYTES}" in str(caught.value)


TAG = {"type": "annotation.tag_applied", "tag": "cat"}
SESSION = {"type": "queue.session_opened", "session_id": "s1", "user": "ann", "lease_until": 1}


@pytest.mark.parametrize(
    ("stream", "event", "error"),
    [
        ("item-nope-a", TAG, StreamNotFound),
        ("queue-nope", SESSION, StreamNotFound),
        ("queue-p", TAG, StreamError),
        ("item-p-a b", TAG, StreamError),
        ("items-p-a", TAG, StreamError),
    ],
)
async def test_events_on_streams_that_do_not_exist_are_refused(
    seeded: Store, stream: str, event: dict[str, Any], error: type[StreamError]
) -> None:
    before = await snapshot(seeded)
    with pytest.raises(error) as caught:
        await submit(seeded, stream, wire(event), 0)
    assert caught.value.stream == stream
    assert stream in str(caught.value)
    assert await snapshot(seeded) == before


async def test_a_bad_append_does_not_fail_the_group_commit_it_shares(seeded: Store) -> None:
    bad: list[list[NewEvent]] = [events for events, _ in PYTHON_CASES.values() if events]
    good = [seeded.append(f"item-p-g{i}", [tagged(f"g{i}")], 0) for i in range(10)]
    refused = [seeded.append("item-p-b", events, 0) for events in bad]
    results = await asyncio.gather(*good, *refused, return_exceptions=True)

    for outcome in results[: len(good)]:
        assert isinstance(outcome, list), outcome
    for outcome in results[len(good) :]:
        assert isinstance(outcome, EventLogError), outcome
    log = await read_everything(seeded)
    assert [r.seq for r in log] == list(range(1, 14))
    assert {r.event_id for r in log[3:]} == {f"g{i}" for i in range(10)}
    assert await seeded.stream_version("item-p-b") == 0
