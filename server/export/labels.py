"""The labels of one item under the export's options, read from its annotation state."""

from collections.abc import Callable

from events.codec import encode
from events.project import ImportedItem
from events.projections.drafts import draft_from_proposal
from events.projections.items import ItemState
from server.export.model import ASSISTANT, ExportProject, Label
from server.export.overlap import majority

TimeOf = Callable[[int], float | None]


def item_labels(
    project: ExportProject, item: ImportedItem, state: ItemState | None, time_of: TimeOf
) -> list[Label]:
    """Submitted labels (each, or their majority), then drafts and the prelabel if asked for."""
    if state is None:
        return []
    options = project.options
    submitted = sorted(
        (
            Label(
                "submitted",
                (labeler,),
                work.submitted,
                seq=work.submitted_seq,
                at=time_of(work.submitted_seq),
            )
            for labeler, work in state.work.items()
            if work.submitted is not None
        ),
        key=lambda label: label.seq or 0,
    )
    labels: list[Label] = []
    if options.overlap == "majority" and len(submitted) > 1:
        merged = majority(
            submitted, project.project_type, (item.width, item.height), project.tag_values
        )
        if merged is not None:
            labels.append(merged)
    else:
        labels.extend(submitted)
    if options.include_drafts:
        for labeler, work in state.work.items():
            draft = state.draft_of(labeler)
            if draft.is_empty():
                continue
            if work.submitted is not None and encode(draft) == encode(work.submitted):
                continue
            labels.append(Label("draft", (labeler,), draft))
    if options.include_prelabels and state.latest_proposal is not None:
        proposal_id = state.latest_proposal
        proposal = state.proposals[proposal_id]
        scores: dict[str, float] = {}
        scores.update({f"{proposal_id}:b{i}": b.score for i, b in enumerate(proposal.boxes)})
        scores.update({f"{proposal_id}:p{i}": p.score for i, p in enumerate(proposal.polygons)})
        scores.update({f"{proposal_id}:s{i}": s.score for i, s in enumerate(proposal.spans)})
        labels.append(
            Label(
                "prelabel",
                (ASSISTANT,),
                draft_from_proposal(proposal_id, proposal, project.multi_label),
                confidence=proposal.confidence,
                scores=scores,
            )
        )
    return labels
