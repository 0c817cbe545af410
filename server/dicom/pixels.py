"""Decode the stored values of one frame, refusing what cannot be decoded with a clear error."""

from typing import Any

from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.encaps import get_frame
from pydicom.pixels.decoders.base import get_decoder
from pydicom.pixels.utils import pixel_array
from pydicom.uid import UID

from server.dicom.capture import captured_warnings
from server.dicom.errors import (
    DicomError,
    InvalidImageError,
    TruncatedPixelDataError,
    UnsupportedTransferSyntaxError,
)
from server.dicom.metadata import DicomMetadata
from server.dicom.preflight import check_frame_dimensions

StoredPixels = NDArray[Any]


def check_decoder(syntax: str) -> None:
    """Raise UnsupportedTransferSyntaxError unless a decoder for `syntax` is installed."""
    uid = UID(syntax)
    try:
        decoder = get_decoder(uid)
    except NotImplementedError:  # pydicom's answer for a syntax it has no decoder for at all
        raise UnsupportedTransferSyntaxError(str(uid), uid.name) from None
    if not decoder.is_available:
        wanted = "; ".join(decoder.missing_dependencies)
        raise UnsupportedTransferSyntaxError(str(uid), uid.name, f"needs {wanted}")


def expected_native_bytes(meta: DicomMetadata) -> int:
    """Return how many bytes uncompressed Pixel Data must hold for `meta`'s dimensions."""
    pixels = meta.rows * meta.columns * meta.frames
    if meta.bits_allocated == 1:
        return (pixels * meta.samples_per_pixel + 7) // 8
    samples = meta.samples_per_pixel
    if meta.photometric_interpretation == "YBR_FULL_422":
        samples = 2  # two luminance values share one pair of chroma values
    return pixels * samples * (meta.bits_allocated // 8)


def check_native_length(ds: Dataset, meta: DicomMetadata) -> None:
    """Raise TruncatedPixelDataError when uncompressed Pixel Data is shorter than its image."""
    if UID(meta.transfer_syntax_uid).is_compressed:
        return
    expected = expected_native_bytes(meta)
    actual = len(ds.PixelData)
    if actual < expected:
        raise TruncatedPixelDataError(expected, actual)


def decode_frame(ds: Dataset, meta: DicomMetadata, frame: int) -> StoredPixels:
    """Return a 0-based frame's stored values, native byte order: (rows, columns[, samples])."""
    if not 0 <= frame < meta.frames:
        raise IndexError(f"frame {frame} is out of range: the image has {meta.frames}")
    # Warnings here go to ingest's notes, or are dropped later: ingest recorded them.
    with captured_warnings():
        uid = UID(meta.transfer_syntax_uid)
        if uid.is_encapsulated:
            check_frame_dimensions(_frame_bytes(ds, meta, frame), meta.rows, meta.columns, frame)
        array = _decode(ds, uid, frame)
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return array


def _decode(ds: Dataset, uid: UID, frame: int) -> StoredPixels:
    try:
        array: StoredPixels = pixel_array(ds, index=frame)
    except DicomError:
        raise
    except NotImplementedError as exc:  # pydicom: no installed plugin decodes this syntax
        raise UnsupportedTransferSyntaxError(str(uid), uid.name, str(exc)) from exc
    except Exception as exc:
        # Decoders of untrusted data fail in many ways (ValueError, RuntimeError, struct.error,
        # a codec's own errors): every one of them means this file cannot be shown.
        raise InvalidImageError(f"frame {frame} could not be decoded: {exc}") from exc
    return array


def _frame_bytes(ds: Dataset, meta: DicomMetadata, frame: int) -> bytes:
    offsets = None
    if "ExtendedOffsetTable" in ds and "ExtendedOffsetTableLengths" in ds:
        offsets = (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths)
    try:
        return get_frame(
            ds.PixelData, frame, extended_offsets=offsets, number_of_frames=meta.frames
        )
    except Exception as exc:
        # Fragment and offset tables come from the untrusted file and fail in many ways.
        raise InvalidImageError(
            f"frame {frame} could not be found in the pixel data: {exc}"
        ) from exc
