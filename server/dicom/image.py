"""Ingest: parse DICOM bytes into a DicomImage, refusing what cannot be shown before decoding."""

from io import BytesIO

import msgspec
import numpy as np
from numpy.typing import NDArray
from pydicom import dcmread
from pydicom.dataset import Dataset

from server.dicom.capture import captured_warnings
from server.dicom.colour import to_rgb8
from server.dicom.display import Voi, default_voi, frame_auto_window, render_grey
from server.dicom.errors import DicomError, ImageTooLargeError, InvalidImageError, NotDicomError
from server.dicom.extract import extract_metadata
from server.dicom.metadata import DicomMetadata, Window
from server.dicom.pixels import StoredPixels, check_decoder, check_native_length, decode_frame
from server.dicom.preflight import check_inflated_size

PREAMBLE = 128
MAGIC = b"DICM"


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    """Bounds on decoded sizes, checked against the header before any pixel is decoded."""

    max_frame_bytes: int = 256 * 2**20
    max_total_bytes: int = 2 * 2**30
    # A Deflated Explicit VR file is inflated whole by pydicom: pixels plus some header.
    max_inflated_bytes: int = 2 * 2**30 + 64 * 2**20


class DicomImage:
    """A parsed DICOM instance: its metadata and its frames, decoded on demand."""

    __slots__ = ("dataset", "metadata")

    def __init__(self, dataset: Dataset, metadata: DicomMetadata) -> None:
        self.dataset = dataset
        self.metadata = metadata

    def stored(self, frame: int = 0) -> StoredPixels:
        """Return frame `frame` as stored values (palette indices or RGB for colour images)."""
        return decode_frame(self.dataset, self.metadata, frame)

    def default_voi(self, frame: int = 0) -> Voi:
        """Return the VOI the default view uses: file's VOI LUT, its window, or automatic."""
        return default_voi(self.stored(frame), self.metadata, frame)

    def auto_window(self, frame: int = 0) -> Window:
        """Return the window spanning this frame's values, Pixel Padding excluded."""
        return frame_auto_window(self.stored(frame), self.metadata, frame)

    def render(self, frame: int = 0, voi: Voi | None = None) -> NDArray[np.uint8]:
        """Return the frame for display: (rows, columns) grey or (rows, columns, 3) RGB."""
        stored = self.stored(frame)
        if self.metadata.is_monochrome:
            return render_grey(stored, self.metadata, frame, voi)
        return to_rgb8(self.dataset, self.metadata, stored)


def read_dicom(data: bytes, limits: Limits | None = None) -> DicomImage:
    """Parse and check DICOM Part 10 bytes; raise a DicomError for anything not displayable."""
    limits = limits or Limits()
    if len(data) < PREAMBLE + len(MAGIC) or data[PREAMBLE : PREAMBLE + len(MAGIC)] != MAGIC:
        raise NotDicomError("the file is not DICOM: it lacks the DICM marker of a DICOM file")
    with captured_warnings() as caught:
        check_inflated_size(data, limits.max_inflated_bytes)
        try:
            ds = dcmread(BytesIO(data))
        except Exception as exc:
            # Parsing untrusted bytes fails in many ways (InvalidDicomError, EOFError,
            # struct.error, ValueError...): all mean the same thing to the uploader.
            raise NotDicomError(f"the file could not be read as DICOM: {exc}") from exc
        # pydicom stops at a premature end of file with only a warning, keeping what it read.
        ends = [m for m in caught.messages() if m.startswith("End of file reached")]
        if ends:
            raise InvalidImageError(f"the file is truncated: {ends[0]}")
        repairs: list[str] = []
        try:
            meta = extract_metadata(ds, repairs)
        except DicomError:
            raise
        except Exception as exc:
            # Attribute values are converted lazily, so damage can surface only here.
            raise InvalidImageError(f"the DICOM attributes could not be read: {exc}") from exc
        meta = msgspec.structs.replace(meta, notes=tuple(repairs))
        check_pixel_module(meta)
        check_size(meta, limits)
        check_decoder(meta.transfer_syntax_uid)
        check_native_length(ds, meta)
        image = DicomImage(ds, meta)
        # Decode the first and last frames once, so that a file ingest accepts can be shown
        # (a cut encapsulated file fails on its last frame).
        for frame in sorted({0, meta.frames - 1}):
            image.render(frame)
    return DicomImage(ds, msgspec.structs.replace(meta, notes=(*meta.notes, *caught.messages())))


def check_pixel_module(meta: DicomMetadata) -> None:
    """Refuse Image Pixel attributes that contradict each other (PS3.3 C.7.6.3)."""
    if meta.rows < 1 or meta.columns < 1:
        raise InvalidImageError(f"the image has {meta.rows} rows and {meta.columns} columns")
    if meta.bits_allocated not in (1, 8, 16, 32):
        raise InvalidImageError(f"Bits Allocated is {meta.bits_allocated}, not 1, 8, 16 or 32")
    if not 1 <= meta.bits_stored <= meta.bits_allocated:
        raise InvalidImageError(
            f"Bits Stored is {meta.bits_stored}, outside 1..{meta.bits_allocated} (Bits Allocated)"
        )
    if not meta.bits_stored - 1 <= meta.high_bit < meta.bits_allocated:
        raise InvalidImageError(
            f"High Bit is {meta.high_bit} with Bits Stored {meta.bits_stored} "
            f"and Bits Allocated {meta.bits_allocated}"
        )
    if meta.pixel_representation not in (0, 1):
        raise InvalidImageError(f"Pixel Representation is {meta.pixel_representation}")
    if meta.samples_per_pixel not in (1, 3):
        raise InvalidImageError(f"Samples per Pixel is {meta.samples_per_pixel}, not 1 or 3")


def check_size(meta: DicomMetadata, limits: Limits) -> None:
    """Refuse images whose decoded frames would exceed `limits`."""
    frame = meta.rows * meta.columns * meta.samples_per_pixel * max(meta.bits_allocated // 8, 1)
    if frame > limits.max_frame_bytes:
        raise ImageTooLargeError(
            f"one {meta.rows}×{meta.columns} frame", frame, limits.max_frame_bytes
        )
    if frame * meta.frames > limits.max_total_bytes:
        raise ImageTooLargeError(
            f"{meta.frames} frames", frame * meta.frames, limits.max_total_bytes
        )
