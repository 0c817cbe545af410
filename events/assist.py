"""Events of the ML assistant: rounds and clusters (`assist-<project>`), proposals (item streams).

Whether a proposal was accepted unchanged or corrected is derived, not recorded: the labeler
takes it into the draft (`PrelabelApplied`), edits or not, and submits; the annotation
projection compares the submitted result with the proposal (see docs/events.md).
"""

from typing import Annotated

import msgspec
from msgspec import Meta

from events.base import (
    CharOffset,
    Confidence,
    Coord,
    Event,
    Extent,
    ItemId,
    PolygonPoints,
    TagName,
)

Round = Annotated[int, Meta(ge=1)]
ModelHash = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]


class ProposedBox(msgspec.Struct, frozen=True, kw_only=True):
    tag: TagName
    x: Coord
    y: Coord
    w: Extent
    h: Extent
    score: Confidence


class ProposedPolygon(msgspec.Struct, frozen=True, kw_only=True):
    tag: TagName
    points: PolygonPoints
    score: Confidence


class ProposedSpan(msgspec.Struct, frozen=True, kw_only=True):
    tag: TagName
    start: CharOffset
    end: CharOffset
    score: Confidence

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError(f"span start ({self.start}) must be less than end ({self.end})")


class ModelTrained(Event, frozen=True, kw_only=True, tag="assist.model_trained"):
    round: Round
    labels_used: Annotated[int, Meta(ge=0)]
    classes: Annotated[list[TagName], Meta(max_length=500)]
    metrics: dict[str, float]
    threshold: Confidence
    model_hash: ModelHash


class ItemsClustered(Event, frozen=True, kw_only=True, tag="assist.items_clustered"):
    """Groups of similar items; the queue fills pages cluster by cluster."""

    round: Round
    clusters: Annotated[list[list[ItemId]], Meta(max_length=10_000)]


class PrelabelProposed(Event, frozen=True, kw_only=True, tag="assist.prelabel_proposed"):
    """The assistant's proposal for one item, confident enough for the project's target."""

    round: Round
    model_hash: ModelHash
    confidence: Confidence
    tags: Annotated[list[TagName], Meta(max_length=500)] = []
    boxes: Annotated[list[ProposedBox], Meta(max_length=1_000)] = []
    polygons: Annotated[list[ProposedPolygon], Meta(max_length=1_000)] = []
    spans: Annotated[list[ProposedSpan], Meta(max_length=10_000)] = []


AssistEvent = ModelTrained | ItemsClustered | PrelabelProposed
ASSIST_EVENTS: tuple[type[Event], ...] = (ModelTrained, ItemsClustered, PrelabelProposed)
