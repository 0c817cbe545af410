"""A labeler's draft of one item, and how each annotation gesture changes it.

The draft is plain data (msgspec Structs) so that a projection snapshot is just its bytes.
`apply` is total: a gesture on a region or span that is not there changes nothing, because
the log is the truth and a fold must never fail on it; refusing bad gestures is the job of
the command side.
"""

from collections.abc import Callable
from typing import Any, Literal

import msgspec

from events.annotation import (
    AllRegionsDeleted,
    BoxDrawn,
    BoxMoved,
    BoxResized,
    BrushErased,
    BrushPainted,
    PolygonDrawn,
    PolygonMoved,
    PolygonPointAdded,
    PolygonPointMoved,
    PolygonPointRemoved,
    RegionDeleted,
    RegionLockToggled,
    RegionRetagged,
    SpansCleared,
    SpansRetagged,
    SpanTagged,
    TagApplied,
    TagCleared,
)
from events.assist import PrelabelProposed
from events.base import Event

RegionKind = Literal["box", "polygon"]


class Region(msgspec.Struct, kw_only=True):
    """A box (x, y, w, h) or a polygon (points) on one frame, with its tag and lock."""

    region_id: str
    kind: RegionKind
    tag: str | None = None
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0
    points: list[tuple[float, float]] = []
    locked: bool = False
    frame: int = 0


class Stroke(msgspec.Struct, kw_only=True):
    """A brush stroke on one frame; `tag` None is an eraser stroke."""

    stroke_id: str
    tag: str | None
    radius: float
    points: list[tuple[float, float]]
    frame: int = 0


class Span(msgspec.Struct, kw_only=True):
    span_id: str
    tag: str
    start: int
    end: int


class Draft(msgspec.Struct, kw_only=True):
    """What one labeler has made of one item so far."""

    tags: list[str] = []
    regions: dict[str, Region] = {}
    strokes: list[Stroke] = []
    spans: dict[str, Span] = {}
    prelabel: str | None = None

    def is_empty(self) -> bool:
        return not (self.tags or self.regions or self.strokes or self.spans)

    def tag_names(self) -> list[str]:
        """Every tag the draft uses, once per use (classification, regions, strokes, spans)."""
        names = list(self.tags)
        names.extend(r.tag for r in self.regions.values() if r.tag is not None)
        names.extend(s.tag for s in self.strokes if s.tag is not None)
        names.extend(s.tag for s in self.spans.values())
        return names

    def frames(self) -> list[int]:
        """The frames that carry a region or a stroke, in order (classification has none)."""
        found = {r.frame for r in self.regions.values()}
        found.update(s.frame for s in self.strokes)
        return sorted(found)


def _tag_applied(draft: Draft, e: TagApplied, multi_label: bool) -> None:
    if not multi_label:
        draft.tags = [e.tag]
    elif e.tag not in draft.tags:
        draft.tags.append(e.tag)


def _tag_cleared(draft: Draft, e: TagCleared, multi_label: bool) -> None:
    if e.tag in draft.tags:
        draft.tags.remove(e.tag)


def _box_drawn(draft: Draft, e: BoxDrawn, multi_label: bool) -> None:
    draft.regions[e.region_id] = Region(
        region_id=e.region_id, kind="box", tag=e.tag, x=e.x, y=e.y, w=e.w, h=e.h, frame=e.frame
    )


def _box_moved(draft: Draft, e: BoxMoved, multi_label: bool) -> None:
    region = draft.regions.get(e.region_id)
    if region is not None and region.kind == "box":
        region.x, region.y = e.x, e.y


def _box_resized(draft: Draft, e: BoxResized, multi_label: bool) -> None:
    region = draft.regions.get(e.region_id)
    if region is not None and region.kind == "box":
        region.x, region.y, region.w, region.h = e.x, e.y, e.w, e.h


def _polygon_drawn(draft: Draft, e: PolygonDrawn, multi_label: bool) -> None:
    draft.regions[e.region_id] = Region(
        region_id=e.region_id, kind="polygon", tag=e.tag, points=list(e.points), frame=e.frame
    )


def _polygon(draft: Draft, region_id: str) -> Region | None:
    region = draft.regions.get(region_id)
    return region if region is not None and region.kind == "polygon" else None


def _point_added(draft: Draft, e: PolygonPointAdded, multi_label: bool) -> None:
    region = _polygon(draft, e.region_id)
    if region is not None and e.index <= len(region.points):
        region.points.insert(e.index, e.point)


def _point_removed(draft: Draft, e: PolygonPointRemoved, multi_label: bool) -> None:
    region = _polygon(draft, e.region_id)
    # A polygon keeps at least three points, as PolygonDrawn requires.
    if region is not None and e.index < len(region.points) and len(region.points) > 3:
        del region.points[e.index]


def _point_moved(draft: Draft, e: PolygonPointMoved, multi_label: bool) -> None:
    region = _polygon(draft, e.region_id)
    if region is not None and e.index < len(region.points):
        region.points[e.index] = e.point


def _polygon_moved(draft: Draft, e: PolygonMoved, multi_label: bool) -> None:
    region = _polygon(draft, e.region_id)
    if region is not None:
        region.points = [(max(0.0, x + e.dx), max(0.0, y + e.dy)) for x, y in region.points]


def _retagged(draft: Draft, e: RegionRetagged, multi_label: bool) -> None:
    region = draft.regions.get(e.region_id)
    if region is not None:
        region.tag = e.tag


def _deleted(draft: Draft, e: RegionDeleted, multi_label: bool) -> None:
    draft.regions.pop(e.region_id, None)


def _all_deleted(draft: Draft, e: AllRegionsDeleted, multi_label: bool) -> None:
    draft.regions = {k: r for k, r in draft.regions.items() if r.locked}


def _lock(draft: Draft, e: RegionLockToggled, multi_label: bool) -> None:
    region = draft.regions.get(e.region_id)
    if region is not None:
        region.locked = e.locked


def _painted(draft: Draft, e: BrushPainted, multi_label: bool) -> None:
    draft.strokes.append(
        Stroke(
            stroke_id=e.stroke_id, tag=e.tag, radius=e.radius, points=list(e.points), frame=e.frame
        )
    )


def _erased(draft: Draft, e: BrushErased, multi_label: bool) -> None:
    draft.strokes.append(
        Stroke(
            stroke_id=e.stroke_id, tag=None, radius=e.radius, points=list(e.points), frame=e.frame
        )
    )


def _span_tagged(draft: Draft, e: SpanTagged, multi_label: bool) -> None:
    draft.spans[e.span_id] = Span(span_id=e.span_id, tag=e.tag, start=e.start, end=e.end)


def _spans_cleared(draft: Draft, e: SpansCleared, multi_label: bool) -> None:
    for span_id in e.span_ids:
        draft.spans.pop(span_id, None)


def _spans_retagged(draft: Draft, e: SpansRetagged, multi_label: bool) -> None:
    for span_id in e.span_ids:
        span = draft.spans.get(span_id)
        if span is not None:
            span.tag = e.tag


# How each drawing gesture changes a draft in place (undo, redo, discard and proposals are
# history-level and handled by the item's state).
HANDLERS: dict[type[Event], Callable[[Draft, Any, bool], None]] = {
    TagApplied: _tag_applied,
    TagCleared: _tag_cleared,
    BoxDrawn: _box_drawn,
    BoxMoved: _box_moved,
    BoxResized: _box_resized,
    PolygonDrawn: _polygon_drawn,
    PolygonPointAdded: _point_added,
    PolygonPointRemoved: _point_removed,
    PolygonPointMoved: _point_moved,
    PolygonMoved: _polygon_moved,
    RegionRetagged: _retagged,
    RegionDeleted: _deleted,
    AllRegionsDeleted: _all_deleted,
    RegionLockToggled: _lock,
    BrushPainted: _painted,
    BrushErased: _erased,
    SpanTagged: _span_tagged,
    SpansCleared: _spans_cleared,
    SpansRetagged: _spans_retagged,
}


def draft_from_proposal(proposal_id: str, proposal: PrelabelProposed, multi_label: bool) -> Draft:
    """The draft a labeler starts from when taking the assistant's proposal (on frame 0: the
    assistant sees an item's first frame only)."""
    tags = list(dict.fromkeys(proposal.tags)) if multi_label else proposal.tags[:1]
    regions: dict[str, Region] = {}
    for index, box in enumerate(proposal.boxes):
        region_id = f"{proposal_id}:b{index}"
        regions[region_id] = Region(
            region_id=region_id, kind="box", tag=box.tag, x=box.x, y=box.y, w=box.w, h=box.h
        )
    for index, polygon in enumerate(proposal.polygons):
        region_id = f"{proposal_id}:p{index}"
        regions[region_id] = Region(
            region_id=region_id, kind="polygon", tag=polygon.tag, points=list(polygon.points)
        )
    spans = {
        f"{proposal_id}:s{i}": Span(
            span_id=f"{proposal_id}:s{i}", tag=s.tag, start=s.start, end=s.end
        )
        for i, s in enumerate(proposal.spans)
    }
    return Draft(tags=tags, regions=regions, spans=spans, prelabel=proposal_id)
