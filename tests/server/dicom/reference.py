"""pydicom's own pipeline, brought to 8-bit grey levels, as the reference our tables must meet."""

from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_modality_lut, apply_voi_lut

from server.dicom.windowing import quantise


def pydicom_output_range(ds: Dataset) -> tuple[float, float]:
    """Return the (y_min, y_max) pydicom's apply_windowing maps a window onto."""
    if ds.get("ModalityLUTSequence"):
        return 0.0, 2.0 ** ds.ModalityLUTSequence[0].LUTDescriptor[2] - 1
    if ds.PixelRepresentation == 0:
        low, high = 0.0, 2.0**ds.BitsStored - 1
    else:
        low, high = -(2.0 ** (ds.BitsStored - 1)), 2.0 ** (ds.BitsStored - 1) - 1
    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
        slope, intercept = float(ds.RescaleSlope), float(ds.RescaleIntercept)
        low, high = low * slope + intercept, high * slope + intercept
    return low, high


def pydicom_grey(ds: Dataset, stored: NDArray[Any], index: int = 0) -> NDArray[np.uint8]:
    """Return pydicom's apply_modality_lut + apply_voi_lut of `stored`, scaled to 0..255."""
    values = apply_modality_lut(stored, ds)
    # pydicom's SIGMOID overflows exp() far from the centre; the result (0) is right.
    with np.errstate(over="ignore"):
        y = apply_voi_lut(values, ds, index=index)
    if ds.get("VOILUTSequence"):
        scaled = y.astype(np.float64) * (
            255 / (2.0 ** ds.VOILUTSequence[index].LUTDescriptor[2] - 1)
        )
    else:
        low, high = pydicom_output_range(ds)
        scaled = (y - low) / (high - low) * 255
    grey = quantise(scaled)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        grey = 255 - grey
    return grey
