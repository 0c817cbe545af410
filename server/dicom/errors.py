"""Errors of DICOM ingest and rendering.

    DicomError                         base; `message` is written for the person who uploaded
    ├── NotDicomError                  not a DICOM Part 10 file, or one too damaged to parse
    ├── InvalidImageError              attributes that contradict each other or the pixels
    │   └── TruncatedPixelDataError    fewer pixel bytes than Rows × Columns × frames need
    ├── ImageTooLargeError             decoding would allocate more than the limits allow
    └── UnsupportedImageError          valid DICOM that this server cannot display
        └── UnsupportedTransferSyntaxError   no installed decoder; names the transfer syntax

Each class carries the HTTP status the web layer should answer with, as `status`.
"""

from typing import ClassVar

UNPROCESSABLE_CONTENT = 422
CONTENT_TOO_LARGE = 413
UNSUPPORTED_MEDIA_TYPE = 415


class DicomError(Exception):
    """Base of every error raised on a DICOM file; `message` can be shown to the user."""

    status: ClassVar[int] = UNPROCESSABLE_CONTENT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotDicomError(DicomError):
    status = UNSUPPORTED_MEDIA_TYPE


class InvalidImageError(DicomError):
    pass


class TruncatedPixelDataError(InvalidImageError):
    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(
            f"the pixel data is truncated: {actual} bytes where the image needs {expected}"
        )
        self.expected = expected
        self.actual = actual


class ImageTooLargeError(DicomError):
    status = CONTENT_TOO_LARGE

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(
            f"the image is too large: {what} would take {size:,} bytes, the limit is {limit:,}"
        )
        self.size = size
        self.limit = limit


class UnsupportedImageError(DicomError):
    status = UNSUPPORTED_MEDIA_TYPE


class UnsupportedTransferSyntaxError(UnsupportedImageError):
    def __init__(self, uid: str, name: str, detail: str = "") -> None:
        suffix = f" ({detail})" if detail else ""
        super().__init__(
            f"cannot decode pixel data in transfer syntax {name} [{uid}]: "
            f"no decoder is installed for it{suffix}"
        )
        self.uid = uid
        self.name = name
