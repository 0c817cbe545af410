"""The VOI transforms of PS3.3 C.11.2, mapping modality values onto grey levels 0..255.

Each function takes float64 modality values and returns float64 grey levels in [0, 255]; the
display LUT quantises them once. The formulas are the standard's with y_min = 0, y_max = 255.
"""

from typing import Any

import numpy as np
from numpy.typing import NDArray

from server.dicom.metadata import LookupTable, Window

Values = NDArray[np.float64]
GREY_MAX = 255.0


def linear(x: Values, center: float, width: float) -> Values:
    """Apply the LINEAR function of PS3.3 C.11.2.1.2.1 (width >= 1)."""
    if width < 1:
        raise ValueError(f"a LINEAR window needs a width of at least 1, not {width}")
    low = center - 0.5 - (width - 1) / 2
    high = center - 0.5 + (width - 1) / 2
    y = np.empty_like(x)
    below = x <= low
    above = x > high
    y[below] = 0.0
    y[above] = GREY_MAX
    between = ~(below | above)
    # width == 1 leaves nothing between, so (width - 1) never divides here by zero.
    if between.any():
        y[between] = ((x[between] - (center - 0.5)) / (width - 1) + 0.5) * GREY_MAX
    return y


def linear_exact(x: Values, center: float, width: float) -> Values:
    """Apply the LINEAR_EXACT function of PS3.3 C.11.2.1.3.2 (width > 0)."""
    if not width > 0:
        raise ValueError(f"a LINEAR_EXACT window needs a positive width, not {width}")
    y = np.empty_like(x)
    below = x <= center - width / 2
    above = x > center + width / 2
    y[below] = 0.0
    y[above] = GREY_MAX
    between = ~(below | above)
    y[between] = ((x[between] - center) / width + 0.5) * GREY_MAX
    return y


def sigmoid(x: Values, center: float, width: float) -> Values:
    """Apply the SIGMOID function of PS3.3 C.11.2.1.3.1 (width > 0)."""
    if not width > 0:
        raise ValueError(f"a SIGMOID window needs a positive width, not {width}")
    # exp overflows to inf far below the centre, which correctly gives 0: not worth a warning.
    with np.errstate(over="ignore"):
        result: Values = GREY_MAX / (1.0 + np.exp(-4.0 * (x - center) / width))
    return result


def apply_window(x: Values, window: Window) -> Values:
    """Apply `window` with its VOI LUT Function."""
    match window.function:
        case "LINEAR":
            return linear(x, window.center, window.width)
        case "LINEAR_EXACT":
            return linear_exact(x, window.center, window.width)
        case "SIGMOID":
            return sigmoid(x, window.center, window.width)


def apply_voi_lut(x: Values, lut: LookupTable) -> Values:
    """Map values through a VOI LUT Sequence item, scaled from its 2^bits range to 0..255."""
    data = np.asarray(lut.data, dtype=np.float64)
    # PS3.3 C.11.2.1.1: inputs below the first mapped value take the first entry, inputs
    # past the end the last; values are truncated to whole inputs as pydicom does.
    index = np.clip(np.floor(x - lut.first_mapped), 0, len(data) - 1).astype(np.intp)
    result: Values = data[index] * (GREY_MAX / (2**lut.bits - 1))
    return result


def quantise(y: Values) -> NDArray[np.uint8]:
    """Round grey levels in [0, 255] half up to uint8."""
    return np.clip(np.floor(y + 0.5), 0, GREY_MAX).astype(np.uint8)


def auto_window(values: NDArray[Any]) -> Window:
    """Return a LINEAR_EXACT window spanning min..max of `values` (padding already removed)."""
    if values.size == 0:
        return Window(center=0.5, width=1.0, function="LINEAR_EXACT", explanation="AUTO")
    low, high = float(values.min()), float(values.max())
    width = high - low if high > low else 1.0
    return Window(center=(low + high) / 2, width=width, function="LINEAR_EXACT", explanation="AUTO")
