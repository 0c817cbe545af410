"""An admin's own ONNX model run over a project's items, its outputs made into proposals.

The model was checked against its kind's contract at upload (`models.user_contract`); here it
is loaded from the media store by hash and run item by item. Scores are the model's own (no
calibration: annolog has no labels it was trained on), so a proposal is made when its score
is at least the registration's `min_score`: for a classification, the best tag's probability
(multi-label: each tag decision's, the least sure counting); for boxes, polygons and spans,
each region's own score, and regions below it are dropped. A model that fails at inference
raises `InferenceError`, which the worker records as `AssistantDisabled`.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from events.assist import (
    PrelabelProposed,
    ProposedBox,
    ProposedPolygon,
    ProposedSpan,
    UserModelRegistered,
)
from events.base import MAX_COORD
from events.project import ImportedItem
from models.user_models import (
    ImageClassifier,
    ObjectDetector,
    Segmenter,
    TagScores,
    TextClassifier,
    TokenClassifier,
    UserModel,
    load_user_model,
)
from server.assist.items import ItemReader, ItemUnreadable
from server.assist.rounds import proposal_key

MAX_POLYGON_POINTS = 10_000
# The round of a model registered before registrations recorded one: what its proposals said.
UNRECORDED_ROUND = 1
MULTI_LABEL = frozenset({"image_multilabel", "text_multilabel"})


@dataclass(frozen=True)
class UserJob:
    project: str
    project_type: str
    registration: UserModelRegistered
    tags: frozenset[str]
    items: Sequence[ImportedItem]
    """Unlabeled items to run over, in import order."""
    latest: dict[str, PrelabelProposed]


def tag_map(registration: UserModelRegistered) -> dict[int, str]:
    return {c.index: c.tag for c in registration.classes}


def load(registration: UserModelRegistered, data: bytes) -> UserModel:
    """The registered model, loaded again (the contract is checked again on the way)."""
    return load_user_model(data, registration.kind, tag_map(registration))


def run_user_model(
    job: UserJob, model: UserModel, reader: ItemReader
) -> tuple[list[tuple[str, PrelabelProposed]], list[str]]:
    """Proposals for the job's items, and the items that could not be read."""
    multilabel = job.project_type in MULTI_LABEL
    floor = job.registration.min_score
    out: list[tuple[str, PrelabelProposed]] = []
    unreadable: list[str] = []
    texts: list[ImportedItem] = []
    for item in job.items:
        try:
            made: PrelabelProposed | None
            if isinstance(model, ImageClassifier):
                scores = model.classify([reader.image(item)], multilabel=multilabel)[0]
                made = _classified(job, scores, multilabel)
            elif isinstance(model, TextClassifier):
                texts.append(item)
                continue
            elif isinstance(model, TokenClassifier):
                spans = [
                    ProposedSpan(tag=s.tag, start=s.start, end=s.end, score=_score(s.score))
                    for s in model.spans(reader.text(item))
                    if s.score >= floor and s.tag in job.tags
                ]
                made = _proposal(job, min((s.score for s in spans), default=0.0), spans=spans)
            elif isinstance(model, ObjectDetector):
                boxes = [
                    ProposedBox(
                        tag=b.tag,
                        x=b.x,
                        y=b.y,
                        w=min(b.w, MAX_COORD),
                        h=min(b.h, MAX_COORD),
                        score=_score(b.score),
                    )
                    for b in model.detect(reader.image(item), min_score=floor)
                    if b.tag in job.tags
                ]
                made = _proposal(job, min((b.score for b in boxes), default=0.0), boxes=boxes)
            elif isinstance(model, Segmenter):
                polygons = [
                    ProposedPolygon(tag=r.tag, points=points, score=_score(r.score))
                    for r in model.segment(reader.image(item))
                    if r.score >= floor and r.tag in job.tags
                    for points in r.polygons
                    if 3 <= len(points) <= MAX_POLYGON_POINTS
                ]
                made = _proposal(
                    job, min((p.score for p in polygons), default=0.0), polygons=polygons
                )
            else:  # pragma: no cover - every kind is handled above
                raise TypeError(f"no proposals for a {type(model).__name__}")
        except ItemUnreadable:
            unreadable.append(item.item_id)
            continue
        _keep(job, item.item_id, made, out)
    if texts and isinstance(model, TextClassifier):
        batch = [reader.text(item) for item in texts]
        for item, scores in zip(texts, model.classify(batch, multilabel=multilabel), strict=True):
            _keep(job, item.item_id, _classified(job, scores, multilabel), out)
    return out, unreadable


def _classified(job: UserJob, scores: TagScores, multilabel: bool) -> PrelabelProposed | None:
    known = {tag: p for tag, p in scores.items() if tag in job.tags}
    if not known:
        return None
    if multilabel:
        tags = [tag for tag, p in known.items() if p >= 0.5]
        confidence = min(max(p, 1 - p) for p in known.values())
    else:
        best = max(known, key=lambda tag: known[tag])
        tags, confidence = [best], known[best]
    if not tags or confidence < job.registration.min_score:
        return None
    return _proposal(job, confidence, tags=tags)


def _proposal(
    job: UserJob,
    confidence: float,
    *,
    tags: list[str] | None = None,
    boxes: list[ProposedBox] | None = None,
    polygons: list[ProposedPolygon] | None = None,
    spans: list[ProposedSpan] | None = None,
) -> PrelabelProposed | None:
    if not (tags or boxes or polygons or spans):
        return None
    return PrelabelProposed(
        round=job.registration.round or UNRECORDED_ROUND,
        model_hash=job.registration.model_hash,
        confidence=_score(confidence),
        tags=tags or [],
        boxes=boxes or [],
        polygons=polygons or [],
        spans=spans or [],
    )


def _keep(
    job: UserJob,
    item: str,
    proposal: PrelabelProposed | None,
    out: list[tuple[str, PrelabelProposed]],
) -> None:
    if proposal is None:
        return
    latest = job.latest.get(item)
    if latest is None or proposal_key(latest) != proposal_key(proposal):
        out.append((item, proposal))


def _score(value: float) -> float:
    return min(1.0, max(0.0, round(float(value), 4)))
