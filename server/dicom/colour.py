"""Colour frames (RGB, YBR, PALETTE COLOR) to 8-bit RGB; windowing does not apply to them."""

from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_color_lut

from server.dicom.capture import captured_warnings
from server.dicom.errors import InvalidImageError, UnsupportedImageError
from server.dicom.metadata import DicomMetadata

RGB_INTERPRETATIONS = frozenset(
    {"RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT", "YBR_PARTIAL_420"}
)


def to_rgb8(ds: Dataset, meta: DicomMetadata, stored: NDArray[Any]) -> NDArray[np.uint8]:
    """Return a colour frame as (rows, columns, 3) uint8 RGB."""
    interpretation = meta.photometric_interpretation
    if interpretation == "PALETTE COLOR":
        try:
            with captured_warnings():
                rgb = apply_color_lut(stored, ds)
        except Exception as exc:
            # The palette attributes come from the untrusted file and fail in many ways.
            raise InvalidImageError(f"the colour palette could not be applied: {exc}") from exc
        # Some files declare 16-bit palette entries but fill them with 8-bit values; showing
        # their top 8 bits would paint the image black.
        bits = 16 if rgb.dtype.itemsize == 2 and int(rgb.max()) > 255 else 8
        return _to_8_bits(rgb[..., :3], bits)
    if interpretation in RGB_INTERPRETATIONS and stored.ndim == 3 and stored.shape[-1] == 3:
        return _to_8_bits(stored, meta.bits_stored)
    raise UnsupportedImageError(
        f"photometric interpretation {interpretation} with {meta.samples_per_pixel} "
        "samples per pixel cannot be displayed"
    )


def _to_8_bits(rgb: NDArray[Any], bits: int) -> NDArray[np.uint8]:
    # Keep the top 8 significant bits: a colour image has no window to choose them by.
    shift = max(bits - 8, 0)
    if shift:
        rgb = rgb >> shift
    result: NDArray[np.uint8] = np.clip(rgb, 0, 255).astype(np.uint8)
    return result
