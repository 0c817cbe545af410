"""Overlap: when several labelers submitted one item, keep each result or their majority.

The majority of n submissions keeps what more than n / 2 of them agree on:

- classification: each tag chosen by a majority (multi-class: at most one can be);
- NER: each span (same start, end and tag) marked by a majority;
- boxes and polygons: regions are grouped greedily, in submission order, with the region of
  the same tag from another labeler whose box overlaps it most (IoU >= 0.5, each labeler at
  most once per group); a group with a majority is kept as its first member's region;
- semantic masks: each pixel takes the value a majority gave it, else background.

An item whose submissions agree on nothing at all has no majority label.
"""

from collections import Counter
from collections.abc import Sequence

import numpy as np

from events.projections.drafts import Draft, Region, Span
from events.projections.segmentation import draft_mask
from server.export import rle
from server.export.geometry import box_of, iou
from server.export.model import Label, Mask

MATCH_IOU = 0.5


def majority(
    submitted: Sequence[Label],
    project_type: str,
    size: tuple[int, int],
    values: dict[str, int],
) -> Label | None:
    """The majority of several submitted labels (given in submission order), or None."""
    if len(submitted) == 1:
        return submitted[0]
    need = len(submitted) // 2 + 1
    drafts = [label.draft for label in submitted]
    labelers = tuple(name for label in submitted for name in label.labelers)
    at = max((label.at for label in submitted if label.at is not None), default=None)
    seq = max((label.seq for label in submitted if label.seq is not None), default=None)
    merged = Draft(
        tags=_tags(drafts, need),
        regions=_regions(submitted, need),
        spans=_spans(drafts, need),
    )
    mask: Mask | None = None
    if project_type == "semantic_segmentation":
        width, height = size
        mask = _mask(drafts, width, height, values, need)
        merged.regions = {}
        if not mask.any():
            return None
    elif merged.is_empty():
        return None
    return Label("submitted", labelers, merged, seq=seq, at=at, mask=mask)


def _tags(drafts: Sequence[Draft], need: int) -> list[str]:
    votes = Counter(tag for draft in drafts for tag in dict.fromkeys(draft.tags))
    order = list(dict.fromkeys(tag for draft in drafts for tag in draft.tags))
    return [tag for tag in order if votes[tag] >= need]


def _spans(drafts: Sequence[Draft], need: int) -> dict[str, Span]:
    votes: Counter[tuple[int, int, str]] = Counter()
    first: dict[tuple[int, int, str], Span] = {}
    for draft in drafts:
        for span in {(s.start, s.end, s.tag): s for s in draft.spans.values()}.values():
            key = (span.start, span.end, span.tag)
            votes[key] += 1
            first.setdefault(key, span)
    kept = sorted(key for key, count in votes.items() if count >= need)
    return {f"m{i}": _span_copy(f"m{i}", first[key]) for i, key in enumerate(kept)}


def _span_copy(span_id: str, span: Span) -> Span:
    return Span(span_id=span_id, tag=span.tag, start=span.start, end=span.end)


def _regions(submitted: Sequence[Label], need: int) -> dict[str, Region]:
    groups: list[list[tuple[int, Region]]] = []
    for who, label in enumerate(submitted):
        for region in label.draft.regions.values():
            if region.tag is None:
                continue
            box = box_of(region)
            best, best_iou = None, MATCH_IOU
            for group in groups:
                head = group[0][1]
                if head.tag != region.tag or any(member == who for member, _ in group):
                    continue
                overlap = iou(box_of(head), box)
                if overlap >= best_iou:
                    best, best_iou = group, overlap
            if best is None:
                groups.append([(who, region)])
            else:
                best.append((who, region))
    kept: dict[str, Region] = {}
    for index, group in enumerate(groups):
        if len(group) >= need:
            head = group[0][1]
            region_id = f"m{index}"
            kept[region_id] = Region(
                region_id=region_id,
                kind=head.kind,
                tag=head.tag,
                x=head.x,
                y=head.y,
                w=head.w,
                h=head.h,
                points=list(head.points),
            )
    return kept


def _mask(
    drafts: Sequence[Draft], width: int, height: int, values: dict[str, int], need: int
) -> Mask:
    masks = [draft_mask(draft, width, height, values) for draft in drafts]
    result = np.zeros((height, width), dtype=np.uint16)
    for value in sorted({v for m in masks for v in rle.present(m)}):
        votes = np.zeros((height, width), dtype=np.int32)
        for mask in masks:
            votes += mask == value
        result[votes >= need] = value
    return result
