"""Probe image and DICOM bytes: check they decode whole and within the limits, and measure them."""

from io import BytesIO
from typing import Final

import msgspec
from PIL import Image, UnidentifiedImageError

from server.dicom import DicomError, read_dicom

# One lock for every warnings.catch_warnings in the process: DICOM and image probes share it.
from server.dicom.capture import captured_warnings
from server.media.content_types import MEDIA_TYPES, Format
from server.media.errors import FileRejected
from server.media.limits import IngestLimits

# Pillow names formats in upper case; MPO is the multi-picture JPEG cameras write.
PILLOW_FORMATS: Final[dict[str, Format]] = {
    "PNG": "png",
    "JPEG": "jpeg",
    "MPO": "jpeg",
    "GIF": "gif",
    "BMP": "bmp",
    "WEBP": "webp",
    "TIFF": "tiff",
}
# Only these plugins may look at untrusted bytes: others (EPS runs Ghostscript) stay out.
_OPEN_FORMATS: Final = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")
# ImportedItem's bounds: an item the event log would refuse is refused here, named.
MAX_SIDE: Final = 100_000
MAX_FRAMES: Final = 10_000


class Picture(msgspec.Struct, frozen=True, kw_only=True):
    """What a probe found: format, media type, size in pixels and frames, decoder warnings."""

    format: Format
    media_type: str
    width: int
    height: int
    frames: int = 1
    warnings: tuple[str, ...] = ()


def probe_image(data: bytes, limits: IngestLimits) -> Picture:
    """Return the image's format and size; raise FileRejected unless it decodes whole.

    The first frame is decoded once, since verify() alone misses a truncated JPEG, GIF or TIFF.
    """
    with captured_warnings() as caught:
        try:
            with Image.open(BytesIO(data), formats=_OPEN_FORMATS) as image:
                pillow_format = image.format or ""
                width, height = image.size
                check_pixels(width, height, limits)
                image.verify()
            with Image.open(BytesIO(data), formats=_OPEN_FORMATS) as image:
                if pillow_format in ("JPEG", "MPO"):
                    # DCT scaling decodes every byte of the stream at 1/64 of the memory.
                    image.draft(None, (max(width // 8, 1), max(height // 8, 1)))
                image.load()
        except FileRejected:
            raise
        except Image.DecompressionBombError:
            # Pillow's own guard (2 × Image.MAX_IMAGE_PIXELS) can fire before ours.
            raise FileRejected(
                f"the image is too large: more than {limits.max_pixels:,} pixels"
            ) from None
        except UnidentifiedImageError:
            raise FileRejected(
                "the file is not an image in a supported format (PNG, JPEG, GIF, BMP, WebP, TIFF)"
            ) from None
        except Exception as exc:
            # Decoders fail on damaged input in many ways (OSError, SyntaxError, struct.error,
            # ValueError...): to the uploader they all mean the same thing.
            raise FileRejected(f"the image is damaged or truncated: {exc}") from exc
    # Our pixel check above supersedes Pillow's warning, which is therefore left out.
    notes = tuple(m for m in caught.messages() if "decompression bomb" not in m)
    fmt = PILLOW_FORMATS.get(pillow_format)
    if fmt is None:
        raise FileRejected(f"images in {pillow_format or 'this'} format are not supported")
    return Picture(
        format=fmt, media_type=MEDIA_TYPES[fmt], width=width, height=height, warnings=notes
    )


def probe_dicom(data: bytes, limits: IngestLimits) -> Picture:
    """Return the DICOM image's size and frame count; raise FileRejected if it cannot be shown."""
    try:
        image = read_dicom(data)
    except DicomError as exc:
        raise FileRejected(exc.message) from exc
    meta = image.metadata
    check_pixels(meta.columns, meta.rows, limits)
    if meta.frames > MAX_FRAMES:
        raise FileRejected(f"the image has {meta.frames:,} frames, the limit is {MAX_FRAMES:,}")
    return Picture(
        format="dicom",
        media_type=MEDIA_TYPES["dicom"],
        width=meta.columns,
        height=meta.rows,
        frames=meta.frames,
        warnings=meta.notes,
    )


def check_pixels(width: int, height: int, limits: IngestLimits) -> None:
    """Refuse an image with no pixels, a side over MAX_SIDE or more pixels than the limit."""
    if width < 1 or height < 1:
        raise FileRejected(f"the image is {width}×{height} pixels: it has no pixels")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise FileRejected(
            f"the image is {width:,}×{height:,} pixels; no side may exceed {MAX_SIDE:,}"
        )
    if width * height > limits.max_pixels:
        raise FileRejected(
            f"the image is too large: {width:,}×{height:,} is {width * height:,} pixels, "
            f"the limit is {limits.max_pixels:,}"
        )
