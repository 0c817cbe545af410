"""The greyscale pipeline folded into one lookup table: stored → modality → VOI → inversion → uint8.

For stored values of 8 or 16 bits the whole pipeline is evaluated once over every possible
stored value (256 or 65,536 of them) and a frame is then displayed with a single `np.take`.
The table is indexed by the stored value's unsigned bit pattern, so signed data needs no
offset. Wider stored values (32-bit) go through the same functions element by element.
"""

from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from server.dicom.metadata import DicomMetadata, LookupTable, PixelTransform, Window
from server.dicom.windowing import Values, apply_voi_lut, apply_window, auto_window, quantise

Voi = Window | LookupTable
Grey = NDArray[np.uint8]


@cache
def stored_domain(dtype: np.dtype[Any]) -> NDArray[Any]:
    """Return every value of an 8- or 16-bit integer dtype, ordered by its unsigned bit pattern."""
    unsigned = np.dtype(f"u{dtype.itemsize}")
    domain = np.arange(2 ** (8 * dtype.itemsize), dtype=unsigned).view(dtype)
    domain.flags.writeable = False
    return domain


def modality_values(stored: NDArray[Any], transform: PixelTransform) -> Values:
    """Apply the Modality LUT, or else Rescale Slope/Intercept, as pydicom's apply_modality_lut."""
    lut = transform.modality_lut
    if lut is not None:
        data = np.asarray(lut.data, dtype=np.float64)
        index = np.clip(stored.astype(np.int64) - lut.first_mapped, 0, len(data) - 1)
        result: Values = data[index]
        return result
    values = stored.astype(np.float64)
    values *= transform.rescale_slope
    values += transform.rescale_intercept
    return values


def grey_levels(stored: NDArray[Any], transform: PixelTransform, voi: Voi, invert: bool) -> Grey:
    """Run the pipeline on `stored` element by element (what every table entry is made of)."""
    values = modality_values(stored, transform)
    y = apply_voi_lut(values, voi) if isinstance(voi, LookupTable) else apply_window(values, voi)
    grey = quantise(y)
    if invert:
        # MONOCHROME1: the minimum value is meant to be shown white (PS3.3 C.7.6.3.1.2).
        np.subtract(255, grey, out=grey)
    return grey


def display_lut(dtype: np.dtype[Any], transform: PixelTransform, voi: Voi, invert: bool) -> Grey:
    """Return the uint8 table giving the grey level of every stored value of `dtype`."""
    return grey_levels(stored_domain(dtype), transform, voi, invert)


def apply_lut(lut: Grey, stored: NDArray[Any]) -> Grey:
    """Look `stored` up in `lut` by its unsigned bit pattern."""
    unsigned = stored.view(np.dtype(f"u{stored.dtype.itemsize}"))
    result: Grey = np.take(lut, unsigned)
    return result


def uses_table(dtype: np.dtype[Any]) -> bool:
    """Tell whether stored values of `dtype` are few enough for a lookup table."""
    return dtype.kind in "iu" and dtype.itemsize <= 2


def padding_mask(values: NDArray[Any], meta: DicomMetadata) -> NDArray[np.bool_]:
    """Return which stored `values` are Pixel Padding (PS3.3 C.7.5.1.1.2)."""
    if meta.pixel_padding_value is None:
        return np.zeros(values.shape, dtype=np.bool_)
    limit = meta.pixel_padding_range_limit
    bounds = [meta.pixel_padding_value, meta.pixel_padding_value if limit is None else limit]
    # The padding attributes share the pixels' type; wrap values encoded with the other sign.
    low, high = sorted(int(v) for v in np.array(bounds, dtype=np.int64).astype(values.dtype))
    return (values >= low) & (values <= high)


def frame_auto_window(stored: NDArray[Any], meta: DicomMetadata, frame: int) -> Window:
    """Return the window spanning the frame's modality values, Pixel Padding excluded."""
    transform = meta.frame_transform(frame)
    if uses_table(stored.dtype):
        # A histogram finds the distinct stored values faster than sorting or masking them.
        unsigned = stored.view(np.dtype(f"u{stored.dtype.itemsize}")).ravel()
        counts = np.bincount(unsigned, minlength=2 ** (8 * stored.dtype.itemsize))
        present = stored_domain(stored.dtype)[counts > 0]
    else:
        present = stored.ravel()
    present = present[~padding_mask(present, meta)]
    return auto_window(modality_values(present, transform))


def default_voi(stored: NDArray[Any], meta: DicomMetadata, frame: int) -> Voi:
    """Return the file's first VOI LUT, else its first window, else an automatic window."""
    transform = meta.frame_transform(frame)
    # The VOI LUT before the window, as pydicom's apply_voi_lut: the standard lets viewers pick.
    if transform.voi_luts:
        return transform.voi_luts[0]
    if transform.windows:
        return transform.windows[0]
    return frame_auto_window(stored, meta, frame)


def render_grey(stored: NDArray[Any], meta: DicomMetadata, frame: int, voi: Voi | None) -> Grey:
    """Return the uint8 view of a greyscale frame under `voi` (the default view if None)."""
    chosen = default_voi(stored, meta, frame) if voi is None else voi
    transform = meta.frame_transform(frame)
    if uses_table(stored.dtype):
        return apply_lut(display_lut(stored.dtype, transform, chosen, meta.is_inverted), stored)
    return grey_levels(stored, transform, chosen, meta.is_inverted)
