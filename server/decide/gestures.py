"""Checks a labeler's gestures on an item against the project and their own draft.

A batch is checked in order against a scratch copy of the labeler's draft and history that
each accepted gesture moves on, so a batch that draws a box and then moves it is fine, and
one that moves a box deleted (or undone) earlier in the same batch is not.
"""

from collections.abc import Sequence

import msgspec

from events.annotation import (
    ActionRedone,
    ActionUndone,
    AllRegionsDeleted,
    AnnotationEvent,
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
from events.base import Event
from events.codec import encode
from events.projections.drafts import Draft
from events.projections.items import ItemState, Work, evolve_item
from events.projections.workspace import ProjectState
from events.vocabulary import EVENT_TAGS
from server.errors import Conflict, Unprocessable


def kinds(*classes: type[Event]) -> frozenset[type[Event]]:
    return frozenset(classes)


COMMON: frozenset[type[Event]] = kinds(ActionUndone, ActionRedone, DraftDiscarded, PrelabelApplied)
CLASSIFY: frozenset[type[Event]] = kinds(TagApplied, TagCleared)
REGIONS: frozenset[type[Event]] = kinds(
    RegionRetagged, RegionDeleted, AllRegionsDeleted, RegionLockToggled
)
BOXES: frozenset[type[Event]] = kinds(BoxDrawn, BoxMoved, BoxResized)
POLYGONS: frozenset[type[Event]] = kinds(
    PolygonDrawn, PolygonPointAdded, PolygonPointRemoved, PolygonPointMoved, PolygonMoved
)
BRUSH: frozenset[type[Event]] = kinds(BrushPainted, BrushErased)
SPANS: frozenset[type[Event]] = kinds(SpanTagged, SpansCleared, SpansRetagged)

GESTURES_BY_TYPE: dict[str, frozenset[type[Event]]] = {
    "image_multiclass": COMMON | CLASSIFY,
    "image_multilabel": COMMON | CLASSIFY,
    "text_multiclass": COMMON | CLASSIFY,
    "text_multilabel": COMMON | CLASSIFY,
    "bounding_boxes": COMMON | REGIONS | BOXES,
    "polygons": COMMON | REGIONS | POLYGONS,
    "semantic_segmentation": COMMON | REGIONS | POLYGONS | BRUSH,
    "ner": COMMON | SPANS,
}


def check_gestures(
    project: ProjectState,
    item_id: str,
    labeler: str,
    gestures: Sequence[tuple[str, AnnotationEvent]],
) -> None:
    """Raises the error naming the first gesture that the project or the draft refuses."""
    allowed = GESTURES_BY_TYPE[project.settings.project_type]
    tags = {tag.name for tag in project.tags}
    item = project.items[item_id]
    state = project.annotations.get(item_id) or ItemState(multi_label=project.multi_label)
    scratch = _scratch_copy(state, labeler)
    for index, (event_id, event) in enumerate(gestures):
        path = f"$.events[{index}].event"
        if type(event) not in allowed:
            raise Unprocessable(
                f"{EVENT_TAGS[type(event)]} is not a gesture of a "
                f"{project.settings.project_type} project",
                field=f"{path}.type",
            )
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in tags:
            raise Unprocessable(f"tag {tag!r} is not in the project's tag set", field=f"{path}.tag")
        _check_frame(event, item.frames, path)
        _check_bounds(event, item.width, item.height, item.text, path)
        _check_against(scratch, labeler, event, path)
        evolve_item(scratch, event_id, event, labeler)


def _scratch_copy(state: ItemState, labeler: str) -> ItemState:
    """A copy of the labeler's part of the item to try a batch on, leaving the model as is."""
    scratch = ItemState(multi_label=state.multi_label, proposals=state.proposals)
    work = state.work.get(labeler)
    if work is not None:
        copy = Work(done=list(work.done), undone=list(work.undone))
        copy.draft = msgspec.msgpack.decode(encode(state.draft_of(labeler)), type=Draft)
        scratch.work[labeler] = copy
    return scratch


def _check_frame(event: AnnotationEvent, frames: int, path: str) -> None:
    if not isinstance(event, BoxDrawn | PolygonDrawn | BrushPainted | BrushErased):
        return
    if event.frame >= frames:
        last = "it has only frame 0" if frames == 1 else f"its frames are 0..{frames - 1}"
        raise Unprocessable(
            f"frame {event.frame} is not a frame of the item ({last})", field=f"{path}.frame"
        )


def _check_bounds(
    event: AnnotationEvent, width: int, height: int, text: str | None, path: str
) -> None:
    if isinstance(event, SpanTagged):
        length = len(text or "")
        if event.end > length:
            raise Unprocessable(
                f"span end {event.end} is past the end of the text ({length} characters)",
                field=f"{path}.end",
            )
        return
    if width <= 0 or height <= 0:
        return
    if isinstance(event, BoxDrawn | BoxResized):
        if event.x + event.w > width or event.y + event.h > height:
            raise Unprocessable(f"box reaches past the image ({width}x{height})", field=f"{path}.w")
    elif isinstance(event, BoxMoved) and (event.x > width or event.y > height):
        raise Unprocessable(f"box moved off the image ({width}x{height})", field=f"{path}.x")
    points: list[tuple[float, float]] = []
    if isinstance(event, PolygonDrawn | BrushPainted | BrushErased):
        points = list(event.points)
    elif isinstance(event, PolygonPointAdded | PolygonPointMoved):
        points = [event.point]
    for index, (x, y) in enumerate(points):
        if x > width or y > height:
            raise Unprocessable(
                f"point ({x}, {y}) is outside the image ({width}x{height})",
                field=f"{path}.points[{index}]",
            )


def _check_against(scratch: ItemState, labeler: str, event: AnnotationEvent, path: str) -> None:
    draft = scratch.draft_of(labeler)
    work = scratch.work.get(labeler)
    done = [] if work is None else [event_id for event_id, _ in work.done]
    undone = [] if work is None else [event_id for event_id, _ in work.undone]
    match event:
        case BoxDrawn(region_id=rid) | PolygonDrawn(region_id=rid):
            if rid in draft.regions:
                raise Conflict(f"region {rid} already exists", field=f"{path}.region_id")
        case BoxMoved(region_id=rid) | BoxResized(region_id=rid):
            _editable(draft, rid, "box", path)
        case PolygonPointAdded(region_id=rid, index=i):
            points = _editable(draft, rid, "polygon", path)
            if i > points:
                raise Unprocessable(
                    f"index {i} is past the polygon's {points} points", field=f"{path}.index"
                )
        case (
            PolygonPointRemoved(region_id=rid, index=i) | PolygonPointMoved(region_id=rid, index=i)
        ):
            points = _editable(draft, rid, "polygon", path)
            if i >= points:
                raise Unprocessable(f"the polygon has no point {i}", field=f"{path}.index")
            if isinstance(event, PolygonPointRemoved) and points <= 3:
                raise Unprocessable("a polygon keeps at least three points", field=f"{path}.index")
        case PolygonMoved(region_id=rid, dx=dx, dy=dy):
            _editable(draft, rid, "polygon", path)
            if any(x + dx < 0 or y + dy < 0 for x, y in draft.regions[rid].points):
                raise Unprocessable("the move takes points off the image", field=f"{path}.dx")
        case RegionRetagged(region_id=rid) | RegionDeleted(region_id=rid):
            _editable(draft, rid, None, path)
        case RegionLockToggled(region_id=rid):
            if rid not in draft.regions:
                raise Conflict(f"region {rid} does not exist", field=f"{path}.region_id")
        case SpanTagged(span_id=sid):
            if sid in draft.spans:
                raise Conflict(f"span {sid} already exists", field=f"{path}.span_id")
        case SpansCleared(span_ids=ids) | SpansRetagged(span_ids=ids):
            missing = [sid for sid in ids if sid not in draft.spans]
            if missing:
                raise Conflict(f"spans {missing} do not exist", field=f"{path}.span_ids")
        case ActionUndone(target=target):
            if not done or done[-1] != target:
                latest = f" (it is {done[-1]})" if done else "; there is none"
                raise Conflict(
                    "only your most recent gesture can be undone" + latest,
                    field=f"{path}.target",
                )
        case ActionRedone(target=target):
            if not undone or undone[-1] != target:
                raise Conflict(
                    "only your most recently undone gesture can be redone",
                    field=f"{path}.target",
                )
        case PrelabelApplied(proposal_event_id=proposal):
            if proposal not in scratch.proposals:
                raise Conflict(
                    f"no proposal {proposal} on this item", field=f"{path}.proposal_event_id"
                )


def _editable(draft: Draft, region_id: str, kind: str | None, path: str) -> int:
    region = draft.regions.get(region_id)
    if region is None:
        raise Conflict(f"region {region_id} does not exist", field=f"{path}.region_id")
    if kind is not None and region.kind != kind:
        raise Unprocessable(
            f"region {region_id} is a {region.kind}, not a {kind}", field=f"{path}.region_id"
        )
    if region.locked:
        raise Conflict(
            f"region {region_id} is locked; unlock it (L) first", field=f"{path}.region_id"
        )
    return len(region.points)
