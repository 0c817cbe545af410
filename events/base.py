"""The base of every event and the constrained value types the vocabulary is built from."""

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

# Upper bounds double as the "finite" check: NaN and infinity fail every comparison.
MAX_COORD = 100_000.0
MAX_TEXT = 100_000

ProjectId = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_]{0,39}$", description="project slug")]
ItemId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
ShapeId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
EventId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
UserName = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")]
SessionId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
TagName = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")]
Colour = Annotated[str, Meta(pattern=r"^#[0-9a-fA-F]{6}$")]
TagKey = Annotated[int, Meta(ge=1, le=9)]
Coord = Annotated[float, Meta(ge=0.0, le=MAX_COORD)]
Offset = Annotated[float, Meta(ge=-MAX_COORD, le=MAX_COORD)]
Extent = Annotated[float, Meta(gt=0.0, le=MAX_COORD)]
Radius = Annotated[float, Meta(gt=0.0, le=1_000.0)]
Point = tuple[Coord, Coord]
PolygonPoints = Annotated[list[Point], Meta(min_length=3, max_length=10_000)]
StrokePoints = Annotated[list[Point], Meta(min_length=1, max_length=10_000)]
CharOffset = Annotated[int, Meta(ge=0, le=10_000_000)]
# Frames of a multi-frame (DICOM) item count from 0; a single-frame item has only frame 0.
FrameIndex = Annotated[int, Meta(ge=0, le=9_999, description="0-based frame of the item")]
Confidence = Annotated[float, Meta(ge=0.0, le=1.0)]
Timestamp = Annotated[float, Meta(ge=0.0, le=1e11)]
Text = Annotated[str, Meta(max_length=MAX_TEXT)]

ProjectType = Literal[
    "image_multiclass",
    "image_multilabel",
    "bounding_boxes",
    "polygons",
    "semantic_segmentation",
    "text_multiclass",
    "text_multilabel",
    "ner",
]
PROJECT_TYPES: tuple[ProjectType, ...] = (
    "image_multiclass",
    "image_multilabel",
    "bounding_boxes",
    "polygons",
    "semantic_segmentation",
    "text_multiclass",
    "text_multilabel",
    "ner",
)


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of every event: frozen, keyword-only, tagged by an explicit, never-renamed tag."""
