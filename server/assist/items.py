"""An item's content as the models want it: images as uint8 arrays, texts as strings.

Images are read from the content-addressed media store: photos through Pillow (first frame,
EXIF orientation ignored as the browser shows the stored pixels), DICOM through the same
decoding and default window the browser gets. For features a JPEG may be decoded at a
reduced scale (features work on at most 128 px a side); user models get full size, so that
their boxes and polygons are in the item's own pixels.
"""

import io
import warnings

import numpy as np
from PIL import Image

from events.project import ImportedItem
from models.types import UInt8Array
from server.dicom import DicomError, read_dicom
from server.media.errors import MediaError
from server.media.storage import MediaStore

FEATURE_SIDE = 256


class ItemUnreadable(Exception):
    """An item whose media cannot be read or decoded; the worker skips it."""

    def __init__(self, item: str, problem: str) -> None:
        super().__init__(f"item {item}: {problem}")
        self.item = item
        self.problem = problem


class ItemReader:
    """Reads items of a project from the media store."""

    def __init__(self, media: MediaStore) -> None:
        self.media = media

    def image(self, item: ImportedItem, *, reduced: bool = False) -> UInt8Array:
        """The item as (H, W) grey or (H, W, 3|4) colour uint8 pixels."""
        if item.kind == "text":
            raise ItemUnreadable(item.item_id, "is text, not an image")
        try:
            data = self.media.read(item.content_hash)
        except MediaError as exc:
            raise ItemUnreadable(item.item_id, exc.message) from exc
        if item.kind == "dicom":
            try:
                pixels = read_dicom(data).render(0)
            except DicomError as exc:
                raise ItemUnreadable(item.item_id, exc.message) from exc
            return np.ascontiguousarray(pixels, dtype=np.uint8)
        return _picture(item.item_id, data, reduced)

    def text(self, item: ImportedItem) -> str:
        if item.kind != "text":
            raise ItemUnreadable(item.item_id, f"is {item.kind}, not text")
        return item.text or ""


def _picture(item: str, data: bytes, reduced: bool) -> UInt8Array:
    try:
        with warnings.catch_warnings():
            # Ingest already bounded the pixel count; a decompression-bomb warning here
            # must not become an error under -W error.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                if reduced:
                    opened.draft("RGB", (FEATURE_SIDE, FEATURE_SIDE))
                image: Image.Image = opened
                if image.mode not in ("L", "RGB", "RGBA"):
                    image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
                pixels = np.asarray(image, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ItemUnreadable(item, f"cannot be decoded as an image ({exc})") from exc
    return np.ascontiguousarray(pixels)
