"""What an export is made of: the project's header, and per item its labels after the options.

A `Label` is one result for one item: a labeler's submission, the majority of several, a
draft, or the assistant's proposal. Formats read labels, never the projection itself, so
every format applies the same options in the same way.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from events.base import ProjectType
from events.project import ImportedItem, TagSpec
from events.projections.drafts import Draft

Status = Literal["submitted", "draft", "prelabel"]
Overlap = Literal["all", "majority"]
Mask = npt.NDArray[np.uint16]
ASSISTANT = "assistant"
# How an entry of one frame of a multi-frame item is named: `<name>#f<frame>` as a file name,
# `<stem>_f<frame>.<ext>` as a zip member (the label importers read both back).
FRAME_MARK = "#f"
MEMBER_FRAME_MARK = "_f"


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What to export: submitted labels by default; drafts and prelabels on request."""

    include_drafts: bool = False
    include_prelabels: bool = False
    overlap: Overlap = "all"


@dataclass(frozen=True, slots=True)
class ExportProject:
    """The project as of the export's `seq`: its settings and tag set (what `tags` numbers)."""

    project_id: str
    name: str
    project_type: ProjectType
    tags: tuple[TagSpec, ...]
    seq: int
    at: float | None
    options: ExportOptions

    @property
    def multi_label(self) -> bool:
        return self.project_type in {"image_multilabel", "text_multilabel"}

    @property
    def tag_values(self) -> dict[str, int]:
        """Category id / mask value of each tag: its position in the tag set plus one."""
        return {tag.name: index + 1 for index, tag in enumerate(self.tags)}


@dataclass(frozen=True, slots=True)
class Label:
    """One result for one item, with who made it and when.

    `scores` holds the assistant's per-region and per-span confidence (by region or span id)
    for prelabels; `mask` is set only for a majority of several semantic masks, which no
    single draft describes.
    """

    status: Status
    labelers: tuple[str, ...]
    draft: Draft
    seq: int | None = None
    at: float | None = None
    confidence: float | None = None
    scores: Mapping[str, float] = field(default_factory=dict)
    mask: Mask | None = None


@dataclass(frozen=True, slots=True)
class ExportItem:
    """One item of the project with its labels, or one frame of a multi-frame item when
    `per_frame` (its labels then hold that frame's regions and strokes only); `index` counts
    these entries from 1 in import order, frames in order."""

    index: int
    item: ImportedItem
    labels: list[Label]
    sop_instance_uid: str | None = None
    frame: int | None = None
    per_frame: bool = False

    @property
    def file_name(self) -> str:
        name = self.item.name or self.item.item_id
        return f"{name}{FRAME_MARK}{self.frame}" if self.per_frame else name

    def member_suffix(self, suffix: str) -> str:
        """The end of the entry's zip member names: `_f<frame>` before `suffix` for a frame."""
        return f"{MEMBER_FRAME_MARK}{self.frame}{suffix}" if self.per_frame else suffix

    @property
    def submitted(self) -> list[Label]:
        return [label for label in self.labels if label.status == "submitted"]
