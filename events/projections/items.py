"""The annotation state of one item: each labeler's draft, history for undo, submitted result.

Undo and redo are events too: a labeler's `done` list holds the gestures in effect, `undone`
the ones undone since the last new gesture. Undo refolds `done` without its last gesture,
so what a reload shows is exactly what the history says.
"""

from typing import Literal

import msgspec

from events.annotation import (
    ActionRedone,
    ActionUndone,
    AnnotationEvent,
    DraftDiscarded,
    PrelabelApplied,
)
from events.assist import PrelabelProposed
from events.codec import encode
from events.projections.drafts import Draft, apply, draft_from_proposal

Outcome = Literal["accepted", "corrected"]


class Gesture(msgspec.Struct, array_like=True):
    event_id: str
    event: AnnotationEvent


class Work(msgspec.Struct, kw_only=True):
    """One labeler's work on one item."""

    draft: Draft = msgspec.field(default_factory=Draft)
    done: list[Gesture] = []
    undone: list[Gesture] = []
    submitted: Draft | None = None
    submitted_seq: int = 0
    # The draft as the proposal made it, to tell "accepted unchanged" from "corrected".
    proposal_draft: bytes | None = None
    prelabel_outcome: Outcome | None = None


class ItemState(msgspec.Struct, kw_only=True):
    """Everything the log says about one item's annotations."""

    work: dict[str, Work] = {}
    proposals: dict[str, PrelabelProposed] = {}
    latest_proposal: str | None = None
    last_seq: int = 0

    def work_of(self, labeler: str) -> Work:
        work = self.work.get(labeler)
        if work is None:
            work = self.work[labeler] = Work()
        return work


def evolve_item(
    item: ItemState,
    event_id: str,
    event: AnnotationEvent | PrelabelProposed,
    actor: str,
    multi_label: bool,
) -> None:
    """Folds one event of the item's stream into its state."""
    if isinstance(event, PrelabelProposed):
        item.proposals[event_id] = event
        item.latest_proposal = event_id
        return
    work = item.work_of(actor)
    match event:
        case ActionUndone(target=target):
            _undo(work, target, item, multi_label)
        case ActionRedone(target=target):
            _redo(work, target, item, multi_label)
        case DraftDiscarded():
            work.draft = Draft()
            work.done.clear()
            work.undone.clear()
            work.proposal_draft = None
        case _:
            work.done.append(Gesture(event_id, event))
            work.undone.clear()
            _apply(work, event, item, multi_label)


def _apply(work: Work, event: AnnotationEvent, item: ItemState, multi_label: bool) -> None:
    if isinstance(event, PrelabelApplied):
        proposal = item.proposals.get(event.proposal_event_id)
        if proposal is not None:
            work.draft = draft_from_proposal(event.proposal_event_id, proposal, multi_label)
            work.proposal_draft = encode(work.draft)
    else:
        apply(work.draft, event, multi_label)


def _undo(work: Work, target: str, item: ItemState, multi_label: bool) -> None:
    index = next((i for i, g in enumerate(work.done) if g.event_id == target), None)
    if index is None:
        return
    work.undone.append(work.done.pop(index))
    _refold(work, item, multi_label)


def _redo(work: Work, target: str, item: ItemState, multi_label: bool) -> None:
    index = next((i for i, g in enumerate(work.undone) if g.event_id == target), None)
    if index is None:
        return
    gesture = work.undone.pop(index)
    work.done.append(gesture)
    _apply(work, gesture.event, item, multi_label)


def _refold(work: Work, item: ItemState, multi_label: bool) -> None:
    work.draft = Draft()
    work.proposal_draft = None
    for gesture in work.done:
        _apply(work, gesture.event, item, multi_label)


def submit(item: ItemState, labeler: str, seq: int) -> Work:
    """Makes the labeler's draft their submitted result; judges a proposal they started from."""
    work = item.work_of(labeler)
    work.submitted = msgspec.msgpack.decode(encode(work.draft), type=Draft)
    work.submitted_seq = seq
    if work.proposal_draft is not None:
        unchanged = encode(work.draft) == work.proposal_draft
        work.prelabel_outcome = "accepted" if unchanged else "corrected"
    return work
