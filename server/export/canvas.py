"""The buffer that an export rasterizes labels' semantic masks into, one label at a time."""

from typing import Literal

import numpy as np

from events.projections.segmentation import paint_draft
from server.export.model import ExportItem, Label, Mask


class MaskCanvas:
    """Rasterizes labels into one reused buffer, with the projection's exact rasterizer.

    A mask it returns stays valid only until the next call. `fortran` lays the buffer out
    column by column, the order COCO's run-length encoding reads, so that encoding needs no
    transposed copy; PNG rows want the default row order.
    """

    def __init__(self, values: dict[str, int], fortran: bool = False) -> None:
        self.values = values
        self.order: Literal["C", "F"] = "F" if fortran else "C"
        self.buffer: Mask | None = None

    def blank(self, width: int, height: int) -> Mask:
        """A zeroed mask of the image's size: the buffer, cleared, unless the size changed."""
        buffer = self.buffer
        if buffer is None or buffer.shape != (height, width):
            buffer = np.zeros((height, width), dtype=np.uint16, order=self.order)
            self.buffer = buffer
        else:
            buffer.fill(0)
        return buffer

    def paint(self, item: ExportItem, label: Label) -> Mask:
        """The label's mask: a majority's own, or its draft painted onto the cleared buffer."""
        if label.mask is not None:
            return label.mask
        mask = self.blank(item.item.width, item.item.height)
        paint_draft(mask, label.draft, self.values)
        return mask
