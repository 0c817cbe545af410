"""When the assistant trains, what a project's labels are, and the ids it writes under. Pure.

A project's first round trains once `first_round` labels are submitted, each later one once
the labels have grown by `growth` since the last round (50, 63, 79, 99, … by default). The
count is the project's submissions (one per item and labeler), read from the log, so a
restarted worker reaches the same decision. A round is recorded as `ModelTrained`, then its
proposals, then `ItemsClustered` of the same round: a round whose clusters are missing was
interrupted, and the worker finishes it with the model it stored.
"""

import hashlib
import math
import os
from dataclasses import dataclass

from events.assist import ModelTrained, PrelabelProposed, UserModelKind
from events.project import ImportedItem
from events.projections.drafts import Draft
from events.projections.workspace import ProjectState

# The project types the worker trains its own models for; the others need an admin's model.
TRAINABLE = frozenset(
    {"image_multiclass", "image_multilabel", "text_multiclass", "text_multilabel", "ner"}
)
# Which kind of user model fits which type of project.
USER_MODEL_KIND: dict[str, UserModelKind] = {
    "image_multiclass": "image_classifier",
    "image_multilabel": "image_classifier",
    "bounding_boxes": "object_detector",
    "polygons": "segmenter",
    "semantic_segmentation": "segmenter",
    "text_multiclass": "text_classifier",
    "text_multilabel": "text_classifier",
    "ner": "token_classifier",
}


@dataclass(frozen=True)
class AssistSettings:
    """How the worker schedules its work (environment: ANNOLOG_ASSIST_*)."""

    first_round: int = 50
    growth: float = 1.25
    # Unlabeled items scored per round, and clustered onto pages (an ItemsClustered event
    # must stay under the log's 256 KiB per event).
    max_pool: int = 20_000
    max_clustered: int = 3_000
    # How long the worker lets a burst of events settle before it looks for work.
    settle_seconds: float = 0.2
    checkpoint_seconds: float = 30.0
    # Items a user model runs over per step (each step appends its proposals).
    user_chunk: int = 64

    def __post_init__(self) -> None:
        if self.first_round < 2:
            raise ValueError(f"first_round must be at least 2, got {self.first_round}")
        if not self.growth > 1.0:
            raise ValueError(f"growth must be more than 1, got {self.growth}")

    @classmethod
    def from_env(cls) -> "AssistSettings":
        try:
            return cls(
                first_round=int(os.environ.get("ANNOLOG_ASSIST_FIRST_ROUND") or 50),
                growth=float(os.environ.get("ANNOLOG_ASSIST_GROWTH") or 1.25),
            )
        except ValueError as exc:
            raise SystemExit(f"ANNOLOG_ASSIST_FIRST_ROUND / _GROWTH: {exc}") from exc


def labels_of(project: ProjectState) -> int:
    """The project's submitted labels: one per item and labeler."""
    return project.progress.submissions


def next_round_at(settings: AssistSettings, project: ProjectState) -> int | None:
    """How many labels the next round waits for (None: the worker never trains this type)."""
    if project.settings.project_type not in TRAINABLE:
        return None
    if not project.models:
        return settings.first_round
    last = project.models[-1].labels_used
    return max(last + 1, math.ceil(last * settings.growth))


def unfinished_round(project: ProjectState) -> ModelTrained | None:
    """The latest round, when its proposals and clusters were not all recorded."""
    if not project.models:
        return None
    last = project.models[-1]
    done = project.clusters is not None and project.clusters.round >= last.round
    return None if done else last


def last_round(project: ProjectState) -> int:
    """The project's latest round number (0 before any): the worker's own rounds and the
    admins' models count up together, each registration taking the next number."""
    own = project.models[-1].round if project.models else 0
    user = project.user_model.round if project.user_model is not None else 0
    return max(own, user)


def active_user_model_hash(project: ProjectState) -> str | None:
    """The admin's model the worker should use, unless it was disabled."""
    model = project.user_model
    if model is None or model.model_hash in project.disabled:
        return None
    return model.model_hash


def labeled(project: ProjectState) -> list[tuple[ImportedItem, Draft]]:
    """Each labeled item (import order) with the result taken as its label.

    With several labelers per item, the result most of them submitted wins; a tie goes to
    the latest submission.
    """
    out: list[tuple[ImportedItem, Draft]] = []
    for item_id, item in project.items.items():
        state = project.annotations.get(item_id)
        if state is None:
            continue
        results = [w for w in state.work.values() if w.submitted is not None]
        if not results:
            continue
        votes: dict[tuple[object, ...], int] = {}
        for work in results:
            assert work.submitted is not None
            key = result_key(work.submitted)
            votes[key] = votes.get(key, 0) + 1
        best = max(
            results,
            key=lambda w: (votes[result_key(w.submitted)], w.submitted_seq),  # type: ignore[arg-type]
        )
        assert best.submitted is not None
        out.append((item, best.submitted))
    return out


def result_key(draft: Draft) -> tuple[object, ...]:
    """What a labeler decided, without ids: sorted tags and spans."""
    spans = sorted((s.start, s.end, s.tag) for s in draft.spans.values())
    return (tuple(sorted(draft.tags)), tuple(spans))


def unlabeled(project: ProjectState, limit: int) -> list[ImportedItem]:
    """Up to `limit` items nobody has submitted yet, in import order."""
    out: list[ImportedItem] = []
    submitted = project.queue.submitted
    for item_id, item in project.items.items():
        if not submitted.get(item_id):
            out.append(item)
            if len(out) == limit:
                break
    return out


def latest_proposals(
    project: ProjectState, items: list[ImportedItem]
) -> dict[str, PrelabelProposed]:
    """The newest proposal of each of these items that has one."""
    out: dict[str, PrelabelProposed] = {}
    for item in items:
        state = project.annotations.get(item.item_id)
        if state is not None and state.latest_proposal is not None:
            proposal = state.proposals.get(state.latest_proposal)
            if proposal is not None:
                out[item.item_id] = proposal
    return out


def proposal_key(proposal: PrelabelProposed) -> tuple[object, ...]:
    """What a proposal proposes, without scores: a new one is made only when this changes."""
    return (
        tuple(proposal.tags),
        tuple((s.start, s.end, s.tag) for s in proposal.spans),
        tuple((b.tag, round(b.x), round(b.y), round(b.w), round(b.h)) for b in proposal.boxes),
        tuple((p.tag, len(p.points)) for p in proposal.polygons),
    )


def event_id(*parts: str) -> str:
    """A deterministic event id, so that a retried append is recognised and writes nothing."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"assist-{digest[:40]}"


def model_trained_id(project: str, round_number: int) -> str:
    return event_id(project, "round", str(round_number))


def clustered_id(project: str, round_number: int) -> str:
    return event_id(project, "clusters", str(round_number))


def proposal_id(project: str, model_hash: str, item: str) -> str:
    return event_id(project, "proposal", model_hash, item)


def disabled_id(project: str, model_hash: str, assist_version: int) -> str:
    return event_id(project, "disabled", model_hash, str(assist_version))
