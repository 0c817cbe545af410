"""Today's payloads, kept as fixtures: a later change that cannot read them fails here.

`fixtures/<tag>.json` holds one recorded envelope of every event type, encoded when the type
was added. The schema may grow (fields with defaults), never rename or retype; a fixture
that stops decoding to the value below means a breaking change (a new tag plus an upcaster
is the way, see docs/events.md). Fixtures are written once and never regenerated:

    python -m tests.events.test_vocabulary      # writes the fixtures that are missing, only
"""

import sys
from pathlib import Path

import msgspec
import pytest

from events.annotation import (
    ActionRedone,
    ActionUndone,
    AllRegionsDeleted,
    BoxDrawn,
    BoxMoved,
    BoxResized,
    BrushErased,
    BrushPainted,
    DraftDiscarded,
    PolygonDrawn,
    PolygonMoved,
    PolygonPointAdded,
    PolygonPointMoved,
    PolygonPointRemoved,
    PrelabelApplied,
    RegionDeleted,
    RegionLockToggled,
    RegionRetagged,
    SpansCleared,
    SpansRetagged,
    SpanTagged,
    TagApplied,
    TagCleared,
)
from events.assist import (
    AssistantDisabled,
    ClassTag,
    ItemsClustered,
    ModelTrained,
    PrelabelProposed,
    ProposedBox,
    ProposedPolygon,
    ProposedSpan,
    UserModelRegistered,
)
from events.codec import (
    decode_incoming_json,
    decode_recorded,
    decode_recorded_json,
    encode,
    encode_json,
)
from events.envelope import Recorded
from events.errors import PayloadError
from events.project import (
    ImportedItem,
    InstructionsUpdated,
    ItemsImported,
    MemberAdded,
    MemberRemoved,
    PatientIdentifiersShown,
    ProjectCreated,
    TagAdded,
    TagsDefined,
    TagSpec,
)
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
from events.vocabulary import ALL_EVENTS, EVENT_TAGS, AnyEvent, tag_of

FIXTURES = Path(__file__).parent / "fixtures"
HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
LEASE = 1_700_000_900.0

# One event of every type, with values in every field that a default would not fill.
EVENTS: list[tuple[str, AnyEvent]] = [
    (
        "project-demo",
        ProjectCreated(
            project_id="demo",
            name="Street scenes",
            project_type="bounding_boxes",
            instructions="Box every car; ignore reflections.",
            page_size=4,
            overlap=2,
            lease_seconds=600,
            target_precision=0.9,
        ),
    ),
    (
        "project-demo",
        TagsDefined(
            tags=[
                TagSpec(name="car", colour="#ff0000", key=1),
                TagSpec(name="bus", colour="#00ff00", key=2),
                TagSpec(name="bicycle", colour="#0000FF"),
            ]
        ),
    ),
    ("project-demo", TagAdded(tag=TagSpec(name="truck", colour="#123abc", key=4))),
    ("project-demo", InstructionsUpdated(instructions="Box every car and bus.")),
    ("project-demo", MemberAdded(user="ann@example.org", role="labeler")),
    ("project-demo", MemberRemoved(user="bob")),
    (
        "project-demo",
        ItemsImported(
            items=[
                ImportedItem(
                    item_id="img-001.jpg",
                    kind="image",
                    content_hash=HASH,
                    size_bytes=48_213,
                    name="img-001.jpg",
                    width=640,
                    height=480,
                    uri="media/img-001.jpg",
                ),
                ImportedItem(
                    item_id="ct-7",
                    kind="dicom",
                    content_hash=HASH,
                    size_bytes=5_242_880,
                    width=512,
                    height=512,
                    frames=10,
                ),
                ImportedItem(
                    item_id="doc-3",
                    kind="text",
                    content_hash=HASH,
                    size_bytes=27,
                    text="Ada Lovelace met Babbage.",
                ),
            ]
        ),
    ),
    ("queue-demo", SessionOpened(session_id="s-1", user="ann", lease_until=LEASE)),
    ("queue-demo", SessionRenewed(session_id="s-1", lease_until=LEASE + 300)),
    ("queue-demo", SessionClosed(session_id="s-1")),
    ("queue-demo", SessionExpired(session_id="s-2")),
    (
        "queue-demo",
        PageAssigned(
            session_id="s-1",
            labeler="ann",
            items=["img-001.jpg", "img-002.jpg"],
            lease_until=LEASE,
            source="clustered",
        ),
    ),
    (
        "queue-demo",
        ItemsReleased(session_id="s-2", labeler="bob", items=["img-003.jpg"], reason="timeout"),
    ),
    ("queue-demo", ItemSkipped(session_id="s-1", labeler="ann", item="img-002.jpg")),
    ("queue-demo", PageSubmitted(session_id="s-1", labeler="ann", items=["img-001.jpg"])),
    ("queue-demo", QueueExhausted(session_id="s-1", labeler="ann")),
    ("item-demo-img-001.jpg", TagApplied(tag="car")),
    ("item-demo-img-001.jpg", TagCleared(tag="bus")),
    (
        "item-demo-img-001.jpg",
        BoxDrawn(region_id="r-1", tag="car", x=10.5, y=20.0, w=50.0, h=40.25),
    ),
    ("item-demo-img-001.jpg", BoxMoved(region_id="r-1", x=12.0, y=22.0)),
    ("item-demo-img-001.jpg", BoxResized(region_id="r-1", x=12.0, y=22.0, w=60.0, h=45.0)),
    (
        "item-demo-img-001.jpg",
        PolygonDrawn(region_id="p-1", tag="bus", points=[(1.0, 1.0), (30.0, 2.5), (15.0, 40.0)]),
    ),
    (
        "item-demo-img-001.jpg",
        PolygonPointAdded(region_id="p-1", index=3, point=(2.0, 35.0)),
    ),
    ("item-demo-img-001.jpg", PolygonPointRemoved(region_id="p-1", index=1)),
    (
        "item-demo-img-001.jpg",
        PolygonPointMoved(region_id="p-1", index=0, point=(0.0, 0.5)),
    ),
    ("item-demo-img-001.jpg", PolygonMoved(region_id="p-1", dx=-0.5, dy=3.0)),
    ("item-demo-img-001.jpg", RegionRetagged(region_id="p-1", tag="truck")),
    ("item-demo-img-001.jpg", RegionDeleted(region_id="r-1")),
    ("item-demo-img-001.jpg", AllRegionsDeleted()),
    ("item-demo-img-001.jpg", RegionLockToggled(region_id="p-1", locked=True)),
    (
        "item-demo-img-001.jpg",
        BrushPainted(
            stroke_id="k-1", tag="car", radius=4.5, points=[(10.0, 10.0), (11.0, 12.0), (13.5, 12)]
        ),
    ),
    ("item-demo-img-001.jpg", BrushErased(stroke_id="k-2", radius=2.0, points=[(11.0, 11.0)])),
    ("item-demo-doc-3", SpanTagged(span_id="sp-1", tag="PER", start=0, end=12)),
    ("item-demo-doc-3", SpansCleared(span_ids=["sp-1", "sp-2"])),
    ("item-demo-doc-3", SpansRetagged(span_ids=["sp-3"], tag="ORG")),
    ("item-demo-img-001.jpg", PrelabelApplied(proposal_event_id="assist-r1-img-001")),
    ("item-demo-img-001.jpg", DraftDiscarded(reason="layout_switch")),
    ("item-demo-img-001.jpg", ActionUndone(target="ev-17")),
    ("item-demo-img-001.jpg", ActionRedone(target="ev-17")),
    (
        "assist-demo",
        ModelTrained(
            round=2,
            labels_used=240,
            classes=["bus", "car"],
            metrics={"accuracy": 0.91, "precision": 0.95},
            threshold=0.82,
            model_hash=HASH,
        ),
    ),
    (
        "assist-demo",
        ItemsClustered(round=2, clusters=[["img-004.jpg", "img-009.jpg"], ["img-005.jpg"]]),
    ),
    (
        "item-demo-img-004.jpg",
        PrelabelProposed(
            round=2,
            model_hash=HASH,
            confidence=0.97,
            tags=["car"],
            boxes=[ProposedBox(tag="car", x=5.0, y=6.0, w=7.0, h=8.0, score=0.97)],
            polygons=[
                ProposedPolygon(tag="bus", points=[(0.0, 0.0), (4.0, 0.0), (4.0, 3.0)], score=0.9)
            ],
            spans=[ProposedSpan(tag="PER", start=3, end=9, score=0.88)],
        ),
    ),
    (
        "assist-demo",
        UserModelRegistered(
            kind="object_detector",
            model_hash=HASH,
            classes=[ClassTag(index=1, tag="car"), ClassTag(index=3, tag="bus")],
            name="detector.onnx",
            size_bytes=1_234_567,
            min_score=0.7,
        ),
    ),
    (
        "assist-demo",
        AssistantDisabled(
            model_hash=HASH,
            error="object_detector model failed: output 'boxes' has shape (3, 5)",
        ),
    ),
    # New types go last: a fixture's seq is its place in this list.
    ("project-demo", PatientIdentifiersShown(shown=True)),
]


def _recorded(index: int, stream: str, event: AnyEvent) -> Recorded:
    tag = tag_of(type(event))
    return Recorded(
        seq=index + 1,
        stream=stream,
        version=index + 1,
        event_id=f"ev-{tag.replace('.', '-')}",
        actor="ann@example.org",
        session="s-1",
        at=1_700_000_000.0 + index / 4,
        event=event,
    )


EXPECTED: dict[str, Recorded] = {
    tag_of(type(event)): _recorded(index, stream, event)
    for index, (stream, event) in enumerate(EVENTS)
}


def fixture_path(tag: str) -> Path:
    return FIXTURES / f"{tag}.json"


def test_every_event_type_has_an_expected_value_and_a_fixture() -> None:
    tags = {EVENT_TAGS[cls] for cls in ALL_EVENTS}
    assert set(EXPECTED) == tags, "add an example of the new event type to EVENTS"
    assert len(EVENTS) == len(EXPECTED), "one example per event type"
    missing = sorted(tag for tag in tags if not fixture_path(tag).exists())
    assert not missing, (
        f"no fixture for {missing}: run `python -m tests.events.test_vocabulary` once "
        "and commit the files it writes"
    )


def test_no_fixture_is_of_a_type_that_left_the_vocabulary() -> None:
    on_disk = {path.name.removesuffix(".json") for path in FIXTURES.glob("*.json")}
    assert on_disk <= set(EXPECTED), "a tag is never removed: keep it, or add an upcaster"


@pytest.mark.parametrize("tag", sorted(EXPECTED))
def test_a_fixture_decodes_to_the_same_event_today(tag: str) -> None:
    path = fixture_path(tag)
    if not path.exists():
        pytest.fail(f"{path.name} is missing (see test_every_event_type_has_...)")
    decoded = decode_recorded_json(path.read_bytes())
    assert decoded == EXPECTED[tag]
    assert type(decoded.event).__name__ == type(EXPECTED[tag].event).__name__


@pytest.mark.parametrize("tag", sorted(EXPECTED))
def test_a_fixture_keeps_every_field_it_was_written_with(tag: str) -> None:
    """A field removed from a type would be ignored on decode; this notices it."""
    written = msgspec.json.decode(fixture_path(tag).read_bytes())["event"]
    today = msgspec.to_builtins(EXPECTED[tag].event)
    assert set(written) <= set(today), f"fields gone from {tag}: {set(written) - set(today)}"


@pytest.mark.parametrize("tag", sorted(EXPECTED))
def test_stored_bytes_round_trip(tag: str) -> None:
    assert decode_recorded(encode(EXPECTED[tag])) == EXPECTED[tag]
    assert decode_recorded_json(encode_json(EXPECTED[tag])) == EXPECTED[tag]


@pytest.mark.parametrize(
    "tag",
    [
        "annotation.box_drawn",
        "annotation.polygon_drawn",
        "annotation.brush_painted",
        "annotation.brush_erased",
    ],
)
def test_a_gesture_written_before_frames_is_on_frame_0_and_a_frame_is_kept(tag: str) -> None:
    written = msgspec.json.decode(fixture_path(tag).read_bytes())
    assert "frame" not in written["event"]
    assert decode_recorded_json(fixture_path(tag).read_bytes()).event.frame == 0  # type: ignore[union-attr]
    on_frame_9 = {**written, "event": {**written["event"], "frame": 9}}
    assert decode_recorded(msgspec.msgpack.encode(on_frame_9)).event.frame == 9  # type: ignore[union-attr]
    too_far = {"event_id": "e1", "event": {**written["event"], "frame": 10_000}}
    with pytest.raises(PayloadError) as refused:
        decode_incoming_json(msgspec.json.encode([too_far]))
    assert refused.value.path == "$[0].event.frame"


def write_missing() -> list[Path]:
    """Writes the fixture of every event type that has none; never touches an existing one."""
    FIXTURES.mkdir(exist_ok=True)
    written = []
    for tag, recorded in EXPECTED.items():
        path = fixture_path(tag)
        if not path.exists():
            path.write_bytes(msgspec.json.format(encode_json(recorded), indent=2) + b"\n")
            written.append(path)
    return written


if __name__ == "__main__":
    for path in write_missing():
        print(f"wrote {path}", file=sys.stdout)
