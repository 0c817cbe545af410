"""The annotation state of one item: each labeler's draft, history for undo, submitted result.

Undo and redo are events too: a labeler's `done` list holds the gestures in effect, `undone`
the ones undone since the last new gesture. Undo refolds `done` without its target, so what
a reload shows is exactly what the history says. The draft itself is not part of a snapshot:
it is derived from `done`, kept beside the struct and refolded after a restore.
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
from events.projections.drafts import HANDLERS, Draft, draft_from_proposal

Outcome = Literal["accepted", "corrected"]
Gesture = tuple[str, AnnotationEvent]


class Work(msgspec.Struct, kw_only=True, dict=True):
    """One labeler's work on one item: the gestures in effect and what they make."""

    done: list[Gesture] = []
    undone: list[Gesture] = []
    submitted: Draft | None = None
    submitted_seq: int = 0
    # The draft as the proposal made it, to tell "accepted unchanged" from "corrected".
    proposal_draft: bytes | None = None
    prelabel_outcome: Outcome | None = None

    @property
    def draft(self) -> Draft:
        """The draft `done` makes; set by the fold, absent after a restore until refolded."""
        draft: Draft = self.__dict__["draft"]
        return draft

    @draft.setter
    def draft(self, value: Draft) -> None:
        self.__dict__["draft"] = value


class ItemState(msgspec.Struct, kw_only=True):
    """Everything the log says about one item's annotations."""

    work: dict[str, Work] = {}
    proposals: dict[str, PrelabelProposed] = {}
    latest_proposal: str | None = None
    last_seq: int = 0
    version: int = 0
    multi_label: bool = False

    def work_of(self, labeler: str) -> Work:
        work = self.work.get(labeler)
        if work is None:
            work = self.work[labeler] = Work()
            work.draft = Draft()
        return work

    def draft_of(self, labeler: str) -> Draft:
        """The labeler's current draft (empty when they have not touched the item)."""
        work = self.work.get(labeler)
        return Draft() if work is None else _draft(self, work)


def _draft(item: ItemState, work: Work) -> Draft:
    draft: Draft | None = work.__dict__.get("draft")
    if draft is None:
        _refold(work, item)
        draft = work.draft
    return draft


def evolve_item(
    item: ItemState, event_id: str, event: AnnotationEvent | PrelabelProposed, actor: str
) -> None:
    """Folds one event of the item's stream into its state."""
    handler = HANDLERS.get(type(event))
    work = item.work.get(actor) or item.work_of(actor)
    if handler is not None:
        # The draft first: after a restore it is refolded from `done`, which must not hold
        # this gesture yet.
        draft = _draft(item, work)
        work.done.append((event_id, event))  # type: ignore[arg-type]
        if work.undone:
            work.undone.clear()
        handler(draft, event, item.multi_label)
        return
    match event:
        case PrelabelProposed():
            item.proposals[event_id] = event
            item.latest_proposal = event_id
        case PrelabelApplied():
            _draft(item, work)
            work.done.append((event_id, event))
            work.undone.clear()
            _take_proposal(work, event, item)
        case ActionUndone(target=target):
            index = _find(work.done, target)
            if index is not None:
                work.undone.append(work.done.pop(index))
                _refold(work, item)
        case ActionRedone(target=target):
            index = _find(work.undone, target)
            if index is not None:
                _draft(item, work)
                gesture = work.undone.pop(index)
                work.done.append(gesture)
                _apply(work, gesture[1], item)
        case DraftDiscarded():
            work.draft = Draft()
            work.done.clear()
            work.undone.clear()
            work.proposal_draft = None


def _find(gestures: list[Gesture], event_id: str) -> int | None:
    for index in range(len(gestures) - 1, -1, -1):
        if gestures[index][0] == event_id:
            return index
    return None


def _take_proposal(work: Work, event: PrelabelApplied, item: ItemState) -> None:
    proposal = item.proposals.get(event.proposal_event_id)
    if proposal is not None:
        work.draft = draft_from_proposal(event.proposal_event_id, proposal, item.multi_label)
        work.proposal_draft = encode(work.draft)


def _apply(work: Work, event: AnnotationEvent, item: ItemState) -> None:
    if isinstance(event, PrelabelApplied):
        _take_proposal(work, event, item)
    else:
        HANDLERS[type(event)](_draft(item, work), event, item.multi_label)


def _refold(work: Work, item: ItemState) -> None:
    work.draft = Draft()
    work.proposal_draft = None
    for _, event in work.done:
        _apply(work, event, item)


def submit(item: ItemState, labeler: str, seq: int) -> Work:
    """Makes the labeler's draft their submitted result; judges a proposal they started from."""
    work = item.work_of(labeler)
    draft = _draft(item, work)
    encoded = encode(draft)
    work.submitted = msgspec.msgpack.decode(encoded, type=Draft)
    work.submitted_seq = seq
    if work.proposal_draft is not None:
        work.prelabel_outcome = "accepted" if encoded == work.proposal_draft else "corrected"
    return work
