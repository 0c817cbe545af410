"""Events of an item's stream (`item-<project>-<item>`): every gesture a labeler makes on it.

Shape and span ids are made by the client, so a gesture can be referred to before its ack.
The actor of the envelope is the labeler whose draft the gesture changes.
"""

from typing import Annotated, Literal

from msgspec import Meta

from events.base import (
    CharOffset,
    Coord,
    Event,
    EventId,
    Extent,
    FrameIndex,
    Offset,
    Point,
    PolygonPoints,
    Radius,
    ShapeId,
    StrokePoints,
    TagName,
)

SpanIds = Annotated[list[ShapeId], Meta(min_length=1, max_length=1_000)]
PointIndex = Annotated[int, Meta(ge=0, le=10_000)]


class TagApplied(Event, frozen=True, kw_only=True, tag="annotation.tag_applied"):
    """A classification tag on the whole item (multi-class replaces, multi-label adds)."""

    tag: TagName


class TagCleared(Event, frozen=True, kw_only=True, tag="annotation.tag_cleared"):
    tag: TagName


class BoxDrawn(Event, frozen=True, kw_only=True, tag="annotation.box_drawn"):
    """A box on one frame of the item (frame 0 unless the item has several)."""

    region_id: ShapeId
    tag: TagName | None = None
    x: Coord
    y: Coord
    w: Extent
    h: Extent
    frame: FrameIndex = 0


class BoxMoved(Event, frozen=True, kw_only=True, tag="annotation.box_moved"):
    region_id: ShapeId
    x: Coord
    y: Coord


class BoxResized(Event, frozen=True, kw_only=True, tag="annotation.box_resized"):
    region_id: ShapeId
    x: Coord
    y: Coord
    w: Extent
    h: Extent


class PolygonDrawn(Event, frozen=True, kw_only=True, tag="annotation.polygon_drawn"):
    """A polygon on one frame of the item (frame 0 unless the item has several)."""

    region_id: ShapeId
    tag: TagName | None = None
    points: PolygonPoints
    frame: FrameIndex = 0


class PolygonPointAdded(Event, frozen=True, kw_only=True, tag="annotation.polygon_point_added"):
    """A point inserted before `index` (index == len(points) appends)."""

    region_id: ShapeId
    index: PointIndex
    point: Point


class PolygonPointRemoved(Event, frozen=True, kw_only=True, tag="annotation.polygon_point_removed"):
    region_id: ShapeId
    index: PointIndex


class PolygonPointMoved(Event, frozen=True, kw_only=True, tag="annotation.polygon_point_moved"):
    region_id: ShapeId
    index: PointIndex
    point: Point


class PolygonMoved(Event, frozen=True, kw_only=True, tag="annotation.polygon_moved"):
    """The whole polygon shifted by (dx, dy); no point may leave the image's positive quadrant."""

    region_id: ShapeId
    dx: Offset
    dy: Offset


class RegionRetagged(Event, frozen=True, kw_only=True, tag="annotation.region_retagged"):
    region_id: ShapeId
    tag: TagName


class RegionDeleted(Event, frozen=True, kw_only=True, tag="annotation.region_deleted"):
    region_id: ShapeId


class AllRegionsDeleted(Event, frozen=True, kw_only=True, tag="annotation.all_regions_deleted"):
    """Deletes every unlocked region (locked ones stay, as the lock promises)."""


class RegionLockToggled(Event, frozen=True, kw_only=True, tag="annotation.region_lock_toggled"):
    region_id: ShapeId
    locked: bool


class BrushPainted(Event, frozen=True, kw_only=True, tag="annotation.brush_painted"):
    """Pixels of `frame` within `radius` of the stroke's polyline take the tag."""

    stroke_id: ShapeId
    tag: TagName
    radius: Radius
    points: StrokePoints
    frame: FrameIndex = 0


class BrushErased(Event, frozen=True, kw_only=True, tag="annotation.brush_erased"):
    """Pixels of `frame` within `radius` of the stroke's polyline go back to background."""

    stroke_id: ShapeId
    radius: Radius
    points: StrokePoints
    frame: FrameIndex = 0


class SpanTagged(Event, frozen=True, kw_only=True, tag="annotation.span_tagged"):
    """Characters [start, end) of the item's text, in code points, take the tag."""

    span_id: ShapeId
    tag: TagName
    start: CharOffset
    end: CharOffset

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError(f"span start ({self.start}) must be less than end ({self.end})")


class SpansCleared(Event, frozen=True, kw_only=True, tag="annotation.spans_cleared"):
    span_ids: SpanIds


class SpansRetagged(Event, frozen=True, kw_only=True, tag="annotation.spans_retagged"):
    span_ids: SpanIds
    tag: TagName


class PrelabelApplied(Event, frozen=True, kw_only=True, tag="annotation.prelabel_applied"):
    """The labeler took the assistant's proposal into their draft (to confirm or correct)."""

    proposal_event_id: EventId


class DraftDiscarded(Event, frozen=True, kw_only=True, tag="annotation.draft_discarded"):
    """The labeler's draft of this item is emptied; its history stays."""

    reason: Literal["layout_switch", "labeler", "reassigned"]


class ActionUndone(Event, frozen=True, kw_only=True, tag="annotation.undone"):
    """Undo of the labeler's own gesture `target` (an event id on this item)."""

    target: EventId


class ActionRedone(Event, frozen=True, kw_only=True, tag="annotation.redone"):
    target: EventId


AnnotationEvent = (
    TagApplied
    | TagCleared
    | BoxDrawn
    | BoxMoved
    | BoxResized
    | PolygonDrawn
    | PolygonPointAdded
    | PolygonPointRemoved
    | PolygonPointMoved
    | PolygonMoved
    | RegionRetagged
    | RegionDeleted
    | AllRegionsDeleted
    | RegionLockToggled
    | BrushPainted
    | BrushErased
    | SpanTagged
    | SpansCleared
    | SpansRetagged
    | PrelabelApplied
    | DraftDiscarded
    | ActionUndone
    | ActionRedone
)
ANNOTATION_EVENTS: tuple[type[Event], ...] = (
    TagApplied,
    TagCleared,
    BoxDrawn,
    BoxMoved,
    BoxResized,
    PolygonDrawn,
    PolygonPointAdded,
    PolygonPointRemoved,
    PolygonPointMoved,
    PolygonMoved,
    RegionRetagged,
    RegionDeleted,
    AllRegionsDeleted,
    RegionLockToggled,
    BrushPainted,
    BrushErased,
    SpanTagged,
    SpansCleared,
    SpansRetagged,
    PrelabelApplied,
    DraftDiscarded,
    ActionUndone,
    ActionRedone,
)
