"""PNG masks: a zip of one mask per labeled image, with a legend.

    SegmentationClass/<name>.png   the submitted label's mask (8-bit palette PNG: pixel value
                                   = the tag's position in the tag set + 1, 0 = background;
                                   the palette holds the tags' colours)
    drafts/<labeler>/SegmentationClass/<name>.png   with include=drafts
    prelabels/SegmentationClass/<name>.png          with include=prelabels
    legend.json                    [{"value", "tag", "colour"}], background first

A project of more than 255 tags gets 16-bit greyscale PNGs (no palette) with the same values.
With overlap=all and several submissions of one image, their masks are overlaid in the order
submitted (each label's tagged pixels over the earlier ones); overlap=majority gives the
pixel-wise majority instead. Masks are rasterized exactly as the projection does it
(`events.projections.segmentation.paint_draft`), in the original image's pixels.
"""

import io
from collections.abc import Iterator

import msgspec
import numpy as np
from PIL import Image

from server.export.base import Writer
from server.export.canvas import MaskCanvas
from server.export.model import ExportItem, ExportProject, Mask
from server.export.naming import member_path
from server.export.sink import Sink
from server.export.zipstream import ZipStream

BACKGROUND = "#000000"
FOLDER = "SegmentationClass"


def palette_of(project: ExportProject) -> list[int]:
    colours = [BACKGROUND] + [tag.colour for tag in project.tags]
    palette: list[int] = []
    for colour in colours:
        palette += [int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)]
    return palette


def encode_png(mask: Mask, palette: list[int] | None) -> bytes:
    buffer = io.BytesIO()
    if palette is not None:
        image = Image.fromarray(mask.astype(np.uint8))
        image.putpalette(palette)
    else:
        image = Image.fromarray(mask.astype(np.uint16))
    # Level 1: masks are runs of few values, which it packs nearly as well, twice as fast.
    image.save(buffer, format="PNG", optimize=False, compress_level=1)
    return buffer.getvalue()


class PngMaskWriter(Writer):
    def open(self, project: ExportProject, out: Sink) -> None:
        self.project = project
        self.zip = ZipStream(out, project.at)
        self.canvas = MaskCanvas(project.tag_values)
        self.palette = palette_of(project) if len(project.tags) <= 255 else None
        legend = [{"value": 0, "tag": None, "colour": BACKGROUND}] + [
            {"value": index + 1, "tag": tag.name, "colour": tag.colour}
            for index, tag in enumerate(project.tags)
        ]
        self.zip.add("legend.json", msgspec.json.format(msgspec.json.encode(legend), indent=2))

    def add(self, item: ExportItem, out: Sink) -> None:
        if item.item.width <= 0 or item.item.height <= 0:
            return
        submitted = item.submitted
        if submitted:
            mask = self.canvas.paint(item, submitted[0])
            if len(submitted) > 1:
                # The canvas is repainted for each later label, so the overlay needs its own.
                mask = mask.copy()
                for later in submitted[1:]:
                    over = self.canvas.paint(item, later)
                    np.copyto(mask, over, where=over > 0)
            self._write(FOLDER, item, mask)
        for label in item.labels:
            if label.status == "draft":
                folder = f"drafts/{label.labelers[0]}/{FOLDER}"
                self._write(folder, item, self.canvas.paint(item, label))
            elif label.status == "prelabel":
                self._write(f"prelabels/{FOLDER}", item, self.canvas.paint(item, label))

    def _write(self, folder: str, item: ExportItem, mask: Mask) -> None:
        path = member_path(self.zip, folder, item.item, item.member_suffix(".png"))
        self.zip.add(path, encode_png(mask, self.palette), compress=False)

    def close(self, out: Sink) -> Iterator[None]:
        yield from self.zip.close()

    def discard(self) -> None:
        self.zip.discard()
