"""Errors of media ingest and storage.

    MediaError                  base; `message` is written for the person who uploaded
    ├── FileRejected            one file (or archive member) refused; ingest reports it per file
    ├── UploadTooLargeError     the whole upload is over `IngestLimits.max_upload_bytes`
    ├── InvalidHashError        a content hash that is not 64 lowercase hex digits
    └── MediaNotFoundError      no stored media has that hash

Each class carries the HTTP status the web layer should answer with, as `status`.
"""

from typing import ClassVar

BAD_REQUEST = 400
NOT_FOUND = 404
CONTENT_TOO_LARGE = 413
UNPROCESSABLE_CONTENT = 422


class MediaError(Exception):
    """Base of every media error; `message` can be shown to the user."""

    status: ClassVar[int] = UNPROCESSABLE_CONTENT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FileRejected(MediaError):
    pass


class UploadTooLargeError(MediaError):
    status = CONTENT_TOO_LARGE

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the upload has {size:,} bytes, the limit is {limit:,}")
        self.size = size
        self.limit = limit


class InvalidHashError(MediaError):
    status = BAD_REQUEST

    def __init__(self, value: str) -> None:
        super().__init__(f"{value[:80]!r} is not a content hash (64 lowercase hex digits)")
        self.value = value


class MediaNotFoundError(MediaError):
    status = NOT_FOUND

    def __init__(self, content_hash: str) -> None:
        super().__init__(f"no media is stored with hash {content_hash}")
        self.content_hash = content_hash
