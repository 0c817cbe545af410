"""One round of the worker's own model, from a project's labels to events' contents.

Pure computation over what `RoundJob` carries (taken from the projection beforehand) and the
items' media; the worker runs it off its event loop and appends what `RoundResult` holds:

1. features of the labeled items and of the unlabeled pool (images: `models.image_features`,
   cached by content hash; texts: hashed n-grams; NER: per-token features);
2. training with temperature scaling (`models.training`), on the tags labelers used so far;
3. the prelabel threshold: the lowest held-out confidence whose Wilson lower bound on
   precision meets the project's target (None: not yet, no proposals this round);
4. the model exported to ONNX and run with onnxruntime over the pool: an item is proposed
   when its confidence is at or above the threshold and the proposal differs from its latest;
5. pages of similar pool items: k-means on the model's logits (NER: on the texts' features),
   filled cluster by cluster.

A round that was recorded (`ModelTrained`) but not finished is finished with its stored model
(`RoundJob.model`): steps 4 and 5 again, which give the same events for the same items.
"""

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from events.assist import PrelabelProposed, ProposedSpan
from events.project import ImportedItem
from events.projections.drafts import Draft
from models.clustering import cluster_pages
from models.errors import TrainingError
from models.feature_cache import FeatureCache, content_key
from models.image_features import FEATURE_VERSION as IMAGE_FEATURES
from models.image_features import image_features
from models.inference import LinearPredictor
from models.onnx_export import export_model, model_hash
from models.text_features import text_features
from models.threshold import (
    Threshold,
    choose_threshold,
    multiclass_outcomes,
    multilabel_outcomes,
    token_outcomes,
)
from models.token_features import text_token_features
from models.tokens import Span, Token, bio_labels, decode_probabilities, label_classes
from models.tokens import sequence_confidence as text_confidence
from models.training import (
    IMAGE_CONFIG,
    TEXT_CONFIG,
    TOKEN_CONFIG,
    train_multiclass,
    train_multilabel,
    train_token_classifier,
)
from models.types import FloatArray
from server.assist.items import ItemReader, ItemUnreadable
from server.assist.rounds import proposal_key

MULTI_LABEL = frozenset({"image_multilabel", "text_multilabel"})
# Item ids of the clustered pages, as bytes in the event: well under the 256 KiB limit.
CLUSTER_BYTES = 200_000


class NotReady(Exception):
    """The labels cannot train a model yet (one class only, no spans, too few texts)."""


@dataclass(frozen=True)
class RoundJob:
    project: str
    project_type: str
    round: int
    tags: tuple[str, ...]
    """The project's tags, in order."""
    target: float
    page_size: int
    labels_used: int
    labeled: Sequence[tuple[ImportedItem, Draft]]
    pool: Sequence[ImportedItem]
    """Unlabeled items, in import order."""
    latest: dict[str, PrelabelProposed]
    """The newest proposal of the pool items that have one."""
    max_clustered: int = 3_000
    model: bytes | None = None
    """Finishing a recorded round: its stored ONNX file (then `threshold` is its threshold)."""
    threshold: float | None = None


@dataclass
class RoundResult:
    model: bytes
    model_hash: str
    classes: list[str]
    threshold: float | None
    metrics: dict[str, float]
    proposals: list[tuple[str, PrelabelProposed]]
    pages: list[list[str]]
    unreadable: list[str] = field(default_factory=list)


class Featurizer:
    """Feature vectors of items: images cached by content hash, texts computed (cheap)."""

    def __init__(self, reader: ItemReader, cache: FeatureCache | None = None) -> None:
        self.reader = reader
        self.cache = cache if cache is not None else FeatureCache(max_items=50_000)

    def images(self, items: Sequence[ImportedItem]) -> tuple[FloatArray, list[int], list[str]]:
        """(rows, index of each row's item, ids of unreadable items)."""
        rows: list[FloatArray] = []
        kept: list[int] = []
        bad: list[str] = []
        for index, item in enumerate(items):
            try:
                rows.append(self.image(item))
            except ItemUnreadable:
                bad.append(item.item_id)
                continue
            kept.append(index)
        matrix = np.stack(rows) if rows else np.zeros((0, 1), dtype=np.float32)
        return matrix, kept, bad

    def image(self, item: ImportedItem) -> FloatArray:
        key = content_key(f"{item.kind}:{item.content_hash}".encode(), IMAGE_FEATURES)
        found = self.cache.get(key)
        if found is None:
            found = image_features(self.reader.image(item, reduced=True))
            self.cache.put(key, found)
        return found

    def texts(self, items: Sequence[ImportedItem]) -> tuple[FloatArray, list[int], list[str]]:
        texts: list[str] = []
        kept: list[int] = []
        bad: list[str] = []
        for index, item in enumerate(items):
            try:
                texts.append(self.reader.text(item))
            except ItemUnreadable:
                bad.append(item.item_id)
                continue
            kept.append(index)
        return text_features(texts), kept, bad

    def of(
        self, project_type: str, items: Sequence[ImportedItem]
    ) -> tuple[FloatArray, list[int], list[str]]:
        if project_type.startswith("image_"):
            return self.images(items)
        return self.texts(items)


def run_round(job: RoundJob, features: Featurizer) -> RoundResult:
    """Trains (or reloads) the round's model and proposes; raises NotReady when it cannot."""
    if job.project_type == "ner":
        return _ner_round(job, features)
    return _classification_round(job, features)


def _classification_round(job: RoundJob, features: Featurizer) -> RoundResult:
    multilabel = job.project_type in MULTI_LABEL
    unreadable: list[str] = []
    metrics: dict[str, float] = {}
    if job.model is None:
        x, kept, bad = features.of(job.project_type, [item for item, _ in job.labeled])
        unreadable += bad
        drafts = [job.labeled[i][1] for i in kept]
        used = {tag for draft in drafts for tag in draft.tags}
        classes = [tag for tag in job.tags if tag in used]
        if len(classes) < 2:
            raise NotReady(f"labels of at least two tags are needed, there are {len(classes)}")
        config = dataclasses.replace(
            IMAGE_CONFIG if job.project_type.startswith("image_") else TEXT_CONFIG, seed=job.round
        )
        try:
            if multilabel:
                y_bool = np.array([[c in d.tags for c in classes] for d in drafts], dtype=np.bool_)
                result = train_multilabel(x, y_bool, classes, config)
                confidence, right = multilabel_outcomes(result.heldout, y_bool)
            else:
                y = np.array([classes.index(_first_known(d, classes)) for d in drafts])
                result = train_multiclass(x, y, classes, config)
                confidence, right = multiclass_outcomes(result.heldout, y)
        except TrainingError as exc:
            raise NotReady(str(exc)) from exc
        threshold = choose_threshold(confidence, right, job.target)
        data = export_model(result.model)
        metrics = {**result.metrics, **_threshold_metrics(threshold)}
        value = threshold.value
    else:
        data, value = job.model, job.threshold
    predictor = LinearPredictor(data)
    classes = list(predictor.classes)
    digest = model_hash(data)
    px, kept, bad = features.of(job.project_type, job.pool)
    unreadable += bad
    pool = [job.pool[i] for i in kept]
    proposals: list[tuple[str, PrelabelProposed]] = []
    confident = 0
    logits = np.zeros((0, len(classes)), dtype=np.float32)
    if pool:
        out = predictor.predict(px)
        logits = out.logits
        for item, p in zip(pool, out.probabilities, strict=True):
            if multilabel:
                tags = [classes[c] for c in np.flatnonzero(p >= 0.5)]
                confidence_of = float(np.maximum(p, 1 - p).min())
            else:
                best = int(np.argmax(p))
                tags, confidence_of = [classes[best]], float(p[best])
            if value is None or confidence_of < value or not tags:
                continue
            confident += 1
            proposal = PrelabelProposed(
                round=job.round, model_hash=digest, confidence=_score(confidence_of), tags=tags
            )
            if _is_new(job, item.item_id, proposal):
                proposals.append((item.item_id, proposal))
    pages = _pages(logits, [item.item_id for item in pool], job)
    metrics.update(_pool_metrics(len(job.pool), confident, len(proposals), len(unreadable)))
    return RoundResult(data, digest, classes, value, metrics, proposals, pages, unreadable)


def _ner_round(job: RoundJob, features: Featurizer) -> RoundResult:
    reader = features.reader
    unreadable: list[str] = []
    metrics: dict[str, float] = {}
    if job.model is None:
        used = {s.tag for _, draft in job.labeled for s in draft.spans.values()}
        tags = [tag for tag in job.tags if tag in used]
        if not tags:
            raise NotReady("no spans have been tagged yet")
        classes = label_classes(tags)
        xs: list[FloatArray] = []
        ys: list[np.ndarray] = []
        for item, draft in job.labeled:
            try:
                tokens, x = text_token_features(reader.text(item))
            except ItemUnreadable:
                unreadable.append(item.item_id)
                continue
            if not tokens:
                continue
            spans = [Span(s.start, s.end, s.tag) for s in draft.spans.values() if s.tag in used]
            xs.append(x)
            ys.append(np.array([classes.index(label) for label in bio_labels(tokens, spans)]))
        config = dataclasses.replace(TOKEN_CONFIG, seed=job.round)
        try:
            result = train_token_classifier(xs, ys, classes, config)
        except TrainingError as exc:
            raise NotReady(str(exc)) from exc
        confidence, right = token_outcomes(result.heldout, np.concatenate(ys), result.groups)
        threshold = choose_threshold(confidence, right, job.target)
        data = export_model(result.model)
        metrics = {**result.metrics, **_threshold_metrics(threshold)}
        value = threshold.value
        model_tags = tags
    else:
        data, value = job.model, job.threshold
        model_tags = []
    predictor = LinearPredictor(data)
    classes = list(predictor.classes)
    if not model_tags:
        model_tags = [c[2:] for c in classes if c.startswith("B-")]
    digest = model_hash(data)
    pool: list[tuple[ImportedItem, list[Token], FloatArray]] = []
    for item in job.pool:
        try:
            tokens, x = text_token_features(reader.text(item))
        except ItemUnreadable:
            unreadable.append(item.item_id)
            continue
        if tokens:
            pool.append((item, tokens, x))
    proposals: list[tuple[str, PrelabelProposed]] = []
    confident = 0
    if pool:
        probabilities = predictor.predict(np.concatenate([x for _, _, x in pool])).probabilities
        start = 0
        for item, tokens, _ in pool:
            p = probabilities[start : start + len(tokens)]
            start += len(tokens)
            spans = decode_probabilities(tokens, p, classes)
            confidence_of = text_confidence(p)
            if value is None or confidence_of < value or not spans:
                continue
            confident += 1
            proposal = PrelabelProposed(
                round=job.round,
                model_hash=digest,
                confidence=_score(confidence_of),
                spans=[
                    ProposedSpan(tag=s.tag, start=s.start, end=s.end, score=_score(s.score))
                    for s in spans
                ],
            )
            if _is_new(job, item.item_id, proposal):
                proposals.append((item.item_id, proposal))
    texts = text_features([reader.text(item) for item, _, _ in pool])
    pages = _pages(texts, [item.item_id for item, _, _ in pool], job)
    metrics.update(_pool_metrics(len(job.pool), confident, len(proposals), len(unreadable)))
    return RoundResult(data, digest, model_tags, value, metrics, proposals, pages, unreadable)


def _first_known(draft: Draft, classes: list[str]) -> str:
    return next(tag for tag in draft.tags if tag in classes)


def _score(value: float) -> float:
    """A probability as the log records it: four decimals, so that a rerun gives equal bytes."""
    return min(1.0, max(0.0, round(float(value), 4)))


def _is_new(job: RoundJob, item: str, proposal: PrelabelProposed) -> bool:
    latest = job.latest.get(item)
    return latest is None or proposal_key(latest) != proposal_key(proposal)


def _threshold_metrics(threshold: Threshold) -> dict[str, float]:
    return {
        "target_precision": threshold.target,
        "threshold_met": 1.0 if threshold.value is not None else 0.0,
        "heldout_support": float(threshold.support),
        "heldout_precision": threshold.precision,
        "heldout_lower_bound": threshold.lower_bound,
        "heldout_coverage": threshold.coverage,
    }


def _pool_metrics(pool: int, confident: int, proposed: int, unreadable: int) -> dict[str, float]:
    """`confident`: pool items at or above the threshold; `proposed`: new proposals among
    them (an item whose latest proposal already says the same gets none)."""
    return {
        "pool": float(pool),
        "confident": float(confident),
        "proposed": float(proposed),
        "pool_coverage": confident / pool if pool else 0.0,
        "unreadable": float(unreadable),
    }


def _pages(x: FloatArray, items: list[str], job: RoundJob) -> list[list[str]]:
    """Pages of similar items, cluster by cluster, within the event's size budget."""
    n = min(len(items), job.max_clustered)
    if n == 0:
        return []
    pages: list[list[str]] = []
    used = 0
    for page in cluster_pages(x[:n], job.page_size, seed=job.round):
        ids = [items[i] for i in page]
        used += sum(len(i) + 3 for i in ids)
        if used > CLUSTER_BYTES:
            break
        pages.append(ids)
    return pages
