"""The browser's copy of a frame's modality values: compact, exact, windowed client-side.

Layout (all little-endian), documented in docs/dicom.md:

    offset  size  field
    0       4     magic b"ALMV"
    4       1     format version, 1
    5       1     sample kind: b"u" unsigned, b"i" signed integer, b"f" IEEE float
    6       1     bytes per sample: 1, 2 or 4
    7       1     reserved, 0
    8       4     rows (uint32)
    12      4     columns (uint32)
    16      8     slope (float64)
    24      8     intercept (float64)
    32      ...   zlib stream of the samples' bytes as planes (below)

The samples run row by row; their little-endian bytes are stored as planes: byte 0 of every
sample, then byte 1 of every sample, and so on. The slowly varying high bytes then compress
well apart from the noisy low ones (a quarter smaller than interleaved on CT, and faster).
A pixel's modality value is `sample * slope + intercept`: the stored value with the file's
Rescale Slope/Intercept, or the Modality LUT's output with slope 1 and intercept 0. Browsers
inflate the zlib stream natively (DecompressionStream("deflate")).
"""

import struct
import zlib
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from server.dicom.display import modality_values
from server.dicom.errors import UnsupportedImageError
from server.dicom.image import DicomImage

MAGIC: Final = b"ALMV"
VERSION: Final = 1
HEADER: Final = struct.Struct("<4sBccxIIdd")
# Level 1: the low bytes are noise; higher levels buy a few percent for twice the CPU.
ZLIB_LEVEL: Final = 1


def encode_values(image: DicomImage, frame: int = 0) -> bytes:
    """Return the payload above for a greyscale frame."""
    meta = image.metadata
    if not meta.is_monochrome:
        raise UnsupportedImageError("modality values exist only for greyscale images")
    stored = image.stored(frame)
    transform = meta.frame_transform(frame)
    samples: NDArray[Any]
    if transform.modality_lut is not None:
        # The LUT's output is at most 16 bits unsigned (PS3.3 C.11.1.1.1).
        samples = modality_values(stored, transform).astype(np.uint16)
        slope, intercept = 1.0, 0.0
    else:
        samples, slope = stored, transform.rescale_slope
        intercept = transform.rescale_intercept
    samples = np.ascontiguousarray(samples, dtype=samples.dtype.newbyteorder("<"))
    planes = samples.reshape(-1).view(np.uint8).reshape(-1, samples.dtype.itemsize).T
    header = HEADER.pack(
        MAGIC,
        VERSION,
        samples.dtype.kind.encode(),
        bytes([samples.dtype.itemsize]),
        meta.rows,
        meta.columns,
        slope,
        intercept,
    )
    return header + zlib.compress(np.ascontiguousarray(planes).tobytes(), ZLIB_LEVEL)


def decode_values(payload: bytes) -> NDArray[np.float64]:
    """Return the modality values of a payload, as a browser would compute them."""
    magic, version, kind, size, rows, columns, slope, intercept = HEADER.unpack_from(payload)
    if magic != MAGIC or version != VERSION:
        raise ValueError(f"not a version {VERSION} modality values payload")
    dtype = np.dtype(f"<{kind.decode()}{size[0]}")
    planes = np.frombuffer(zlib.decompress(payload[HEADER.size :]), dtype=np.uint8)
    interleaved = np.ascontiguousarray(planes.reshape(dtype.itemsize, -1).T)
    samples = interleaved.reshape(-1).view(dtype)
    values: NDArray[np.float64] = samples.reshape(rows, columns) * slope + intercept
    return values
