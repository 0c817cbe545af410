"""The labels of one item under the export's options, read from its annotation state; for a
multi-frame item, the labels of one frame at a time."""

from collections.abc import Callable

import msgspec

from events.codec import encode
from events.project import ImportedItem
from events.projections.drafts import Draft, draft_from_proposal
from events.projections.items import ItemState
from server.export.model import ASSISTANT, ExportProject, Label
from server.export.overlap import majority

TimeOf = Callable[[int], float | None]


def labeled_frames(project: ExportProject, state: ItemState | None) -> list[int]:
    """The frames that an exported label draws on, in order (frame 0 when none does)."""
    drafts: list[Draft] = []
    if state is not None:
        drafts = [work.submitted for work in state.work.values() if work.submitted is not None]
        if project.options.include_drafts:
            drafts += [state.draft_of(labeler) for labeler in state.work]
    frames = {frame for draft in drafts for frame in draft.frames()}
    if project.options.include_prelabels and state is not None and state.latest_proposal:
        frames.add(0)  # the assistant proposes on the first frame
    return sorted(frames) or [0]


def on_frame(draft: Draft, frame: int) -> Draft:
    """The draft's regions and strokes of `frame` as a draft of a single-frame image (frame
    0), which every format writes, measures and rasterizes as it does any image's."""
    regions = {
        region_id: msgspec.structs.replace(region, frame=0)
        for region_id, region in draft.regions.items()
        if region.frame == frame
    }
    strokes = [msgspec.structs.replace(s, frame=0) for s in draft.strokes if s.frame == frame]
    return Draft(
        tags=draft.tags,
        regions=regions,
        strokes=strokes,
        spans=draft.spans,
        prelabel=draft.prelabel,
    )


def item_labels(
    project: ExportProject,
    item: ImportedItem,
    state: ItemState | None,
    time_of: TimeOf,
    frame: int | None = None,
) -> list[Label]:
    """Submitted labels (each, or their majority), then drafts and the prelabel if asked for;
    of `frame` only when one is given."""
    if state is None:
        return []
    options = project.options

    def framed(draft: Draft) -> Draft:
        return draft if frame is None else on_frame(draft, frame)

    submitted = sorted(
        (
            Label(
                "submitted",
                (labeler,),
                framed(work.submitted),
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
            labels.append(Label("draft", (labeler,), framed(draft)))
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
                framed(draft_from_proposal(proposal_id, proposal, project.multi_label)),
                confidence=proposal.confidence,
                scores=scores,
            )
        )
    return labels
