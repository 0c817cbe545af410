"""The annotation state of one item: each labeler's gestures in effect, their draft, and
their submitted result.

Undo and redo are events too: a labeler's `done` list holds the gestures in effect, `undone`
the ones undone since the last new gesture, so what a reload shows is exactly what the
history says. The draft is derived from `done` and is not part of a snapshot: it is folded
the first time something reads it, then kept up to date gesture by gesture. A rebuild
therefore only files each gesture under its item and labeler, and folds drafts on demand.
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
    prelabel_outcome: Outcome | None = None

    @property
    def draft(self) -> Draft:
        """The draft `done` makes, once folded (see `ItemState.draft_of`)."""
        draft: Draft = self.__dict__["draft"]
        return draft

    @draft.setter
    def draft(self, value: Draft) -> None:
        self.__dict__["draft"] = value

    @property
    def proposal_draft(self) -> bytes | None:
        """The draft as the taken proposal made it, to tell "accepted" from "corrected"."""
        found: bytes | None = self.__dict__.get("proposal_draft")
        return found


class ItemState(msgspec.Struct, kw_only=True):
    """Everything the log says about one item's annotations."""

    work: dict[str, Work] = {}
    proposals: dict[str, PrelabelProposed] = {}
    latest_proposal: str | None = None
    last_seq: int = 0
    version: int = 0
    multi_label: bool = False

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
    work = item.work.get(actor)
    if work is None:
        work = item.work[actor] = Work()
    handler = HANDLERS.get(type(event))
    if handler is not None:
        work.done.append((event_id, event))  # type: ignore[arg-type]
        if work.undone:
            work.undone.clear()
        draft = work.__dict__.get("draft")
        if draft is not None:
            handler(draft, event, item.multi_label)
        return
    folded = "draft" in work.__dict__
    match event:
        case PrelabelProposed():
            item.proposals[event_id] = event
            item.latest_proposal = event_id
        case PrelabelApplied():
            work.done.append((event_id, event))
            work.undone.clear()
            if folded:
                _take_proposal(work, event, item)
        case ActionUndone(target=target):
            index = _find(work.done, target)
            if index is not None:
                work.undone.append(work.done.pop(index))
                if folded:
                    _refold(work, item)
        case ActionRedone(target=target):
            index = _find(work.undone, target)
            if index is not None:
                gesture = work.undone.pop(index)
                work.done.append(gesture)
                if folded:
                    _apply(work, gesture[1], item)
        case DraftDiscarded():
            work.done.clear()
            work.undone.clear()
            work.__dict__.pop("draft", None)
            work.__dict__.pop("proposal_draft", None)


def _find(gestures: list[Gesture], event_id: str) -> int | None:
    for index in range(len(gestures) - 1, -1, -1):
        if gestures[index][0] == event_id:
            return index
    return None


def _take_proposal(work: Work, event: PrelabelApplied, item: ItemState) -> None:
    proposal = item.proposals.get(event.proposal_event_id)
    if proposal is not None:
        work.draft = draft_from_proposal(event.proposal_event_id, proposal, item.multi_label)
        work.__dict__["proposal_draft"] = encode(work.draft)


def _apply(work: Work, event: AnnotationEvent, item: ItemState) -> None:
    if isinstance(event, PrelabelApplied):
        _take_proposal(work, event, item)
    else:
        HANDLERS[type(event)](work.draft, event, item.multi_label)


def _refold(work: Work, item: ItemState) -> None:
    work.draft = Draft()
    work.__dict__.pop("proposal_draft", None)
    for _, event in work.done:
        _apply(work, event, item)


def submit(item: ItemState, labeler: str, seq: int) -> Work:
    """Makes the labeler's draft their submitted result; judges a proposal they started from."""
    work = item.work.get(labeler)
    if work is None:
        work = item.work[labeler] = Work()
    encoded = encode(_draft(item, work))
    work.submitted = msgspec.msgpack.decode(encoded, type=Draft)
    work.submitted_seq = seq
    if work.proposal_draft is not None:
        work.prelabel_outcome = "accepted" if encoded == work.proposal_draft else "corrected"
    return work
