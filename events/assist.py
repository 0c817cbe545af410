"""Events of the ML assistant: rounds and clusters (`assist-<project>`), proposals (item streams).

The assist stream also records an admin's own ONNX model (`UserModelRegistered`) and a model
the worker stopped using because it failed (`AssistantDisabled`, with the error to show).

Whether a proposal was accepted unchanged or corrected is derived, not recorded: the labeler
takes it into the draft (`PrelabelApplied`), edits or not, and submits; the annotation
projection compares the submitted result with the proposal (see docs/events.md).
"""

from typing import Annotated, Literal

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
UserModelKind = Literal[
    "image_classifier", "object_detector", "segmenter", "text_classifier", "token_classifier"
]


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


class ClassTag(msgspec.Struct, frozen=True, kw_only=True):
    """A model class mapped to a project tag (token classifiers: `B-tag`, `I-tag` or `tag`)."""

    index: Annotated[int, Meta(ge=0, le=1_000_000)]
    tag: TagName


class UserModelRegistered(Event, frozen=True, kw_only=True, tag="assist.user_model_registered"):
    """An admin's ONNX model, checked against its kind's contract and stored by hash.

    From now on the worker prelabels the project's items with it (scores at or above
    `min_score`), until another is registered or it fails and is disabled. Its proposals
    carry its `round`: the one after the project's latest (0 in logs from before rounds were
    recorded here).
    """

    kind: UserModelKind
    model_hash: ModelHash
    classes: Annotated[list[ClassTag], Meta(min_length=1, max_length=10_000)]
    name: Annotated[str, Meta(max_length=200)] = ""
    size_bytes: Annotated[int, Meta(ge=0)] = 0
    min_score: Confidence = 0.5
    round: Annotated[int, Meta(ge=0)] = 0


class AssistantDisabled(Event, frozen=True, kw_only=True, tag="assist.assistant_disabled"):
    """The worker stopped using a model that failed; `error` is shown to the admin."""

    model_hash: ModelHash
    error: Annotated[str, Meta(max_length=4_000)]


AssistEvent = (
    ModelTrained | ItemsClustered | PrelabelProposed | UserModelRegistered | AssistantDisabled
)
ASSIST_EVENTS: tuple[type[Event], ...] = (
    ModelTrained,
    ItemsClustered,
    PrelabelProposed,
    UserModelRegistered,
    AssistantDisabled,
)
