"""The semantic mask of a draft, one per frame: brush strokes and erasures in order, then
polygons on top, each on the frame it was drawn on."""

from collections.abc import Sequence

import numpy as np

from events.project import TagSpec
from events.projections.drafts import Draft
from events.projections.masks import Mask, fill_polygon, new_mask, paint_stroke


def tag_values(tags: Sequence[TagSpec]) -> dict[str, int]:
    """Mask value of each tag: its position in the project's tag set plus one (0 = none)."""
    return {tag.name: index + 1 for index, tag in enumerate(tags)}


def draft_mask(
    draft: Draft, width: int, height: int, values: dict[str, int], frame: int = 0
) -> np.ndarray:
    """Rasterizes a draft's `frame`: its strokes paint or erase in the order drawn, then each
    tagged polygon is filled on top, as a semantic project converts polygons on submit."""
    mask = new_mask(width, height)
    paint_draft(mask, draft, values, frame)
    return mask


def paint_draft(mask: Mask, draft: Draft, values: dict[str, int], frame: int = 0) -> None:
    """Paints a draft's `frame` onto a blank mask of the image's size, as `draft_mask` does;
    the mask may be a reused buffer and in either memory order."""
    for stroke in draft.strokes:
        if stroke.frame != frame:
            continue
        value = 0 if stroke.tag is None else values.get(stroke.tag, 0)
        paint_stroke(mask, stroke.points, stroke.radius, value)
    for region in draft.regions.values():
        if region.frame != frame:
            continue
        if region.kind == "polygon" and region.tag is not None and region.tag in values:
            fill_polygon(mask, region.points, values[region.tag])
