"""Sizes declared inside raw bytes, checked before pydicom inflates or a codec decodes them.

The header checks trust Rows × Columns; two things can still allocate far more than those say:
a Deflated Explicit VR dataset (pydicom inflates it whole) and a compressed frame whose own
codestream header claims other dimensions (the codec allocates what its header says).
"""

import struct
import zlib

from pydicom.uid import DeflatedExplicitVRLittleEndian

from server.dicom.errors import ImageTooLargeError, InvalidImageError, NotDicomError

META_START = 132  # 128-byte preamble, then b"DICM"
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT"}
_CHUNK = 1 << 20
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7}
_J2K_SIZ = b"\xff\x4f\xff\x51"


def dataset_start(data: bytes) -> tuple[int, str]:
    """Return where the dataset begins after the file meta group, and its transfer syntax."""
    offset, syntax = META_START, ""
    while offset + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, offset)
        if group != 0x0002:
            break
        vr = data[offset + 4 : offset + 6]
        if vr in _LONG_VRS:
            if offset + 12 > len(data):
                break
            (length,) = struct.unpack_from("<L", data, offset + 8)
            value_at = offset + 12
        else:
            (length,) = struct.unpack_from("<H", data, offset + 6)
            value_at = offset + 8
        if element == 0x0010:
            syntax = data[value_at : value_at + length].rstrip(b"\x00 ").decode("ascii", "replace")
        offset = value_at + length
    return offset, syntax


def check_inflated_size(data: bytes, limit: int) -> None:
    """Refuse a deflated dataset that inflates past `limit` bytes, before pydicom inflates it."""
    start, syntax = dataset_start(data)
    if syntax != DeflatedExplicitVRLittleEndian:
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    body, inflated = data[start:], 0
    try:
        # Inflate in bounded steps and keep nothing: only the size matters here.
        chunk = inflater.decompress(body, _CHUNK)
        while chunk:
            inflated += len(chunk)
            if inflated > limit:
                raise ImageTooLargeError("the deflated dataset, inflated,", inflated, limit)
            chunk = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
    except zlib.error as exc:
        raise NotDicomError(f"the deflated DICOM dataset is corrupt: {exc}") from exc


def declared_dimensions(frame: bytes) -> tuple[int, int] | None:
    """Return (rows, columns) from a JPEG, JPEG-LS or JPEG 2000 frame's header, if it has one."""
    if frame.startswith(b"\xff\xd8"):
        return _jpeg_dimensions(frame)
    at = frame.find(_J2K_SIZ, 0, 4096)
    if at >= 0 and len(frame) >= at + 24:
        x, y, x0, y0 = struct.unpack_from(">LLLL", frame, at + 8)
        return y - y0, x - x0
    return None


def _jpeg_dimensions(frame: bytes) -> tuple[int, int] | None:
    offset = 2
    while offset + 4 <= len(frame):
        if frame[offset] != 0xFF:
            return None
        marker = frame[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        if marker in _JPEG_SOF and offset + 9 <= len(frame):
            rows, columns = struct.unpack_from(">HH", frame, offset + 5)
            # Rows 0 means "given later by a DNL marker": nothing to check against yet.
            return (rows, columns) if rows else None
        if marker == 0xDA:  # start of scan without a frame header
            return None
        (length,) = struct.unpack_from(">H", frame, offset + 2)
        offset += 2 + length
    return None


def check_frame_dimensions(frame: bytes, rows: int, columns: int, index: int) -> None:
    """Refuse a compressed frame whose own header disagrees with Rows and Columns."""
    declared = declared_dimensions(frame)
    if declared is not None and declared != (rows, columns):
        raise InvalidImageError(
            f"frame {index} is encoded as {declared[0]}×{declared[1]} pixels "
            f"but the file says {rows}×{columns}"
        )
