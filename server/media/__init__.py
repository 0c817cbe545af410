"""Media for annolog: ingest uploads into items, store their bytes by hash, serve them typed.

result = ingest(filename, data, limits=IngestLimits())   # UploadTooLargeError over the limit
for file in result.items:                                # IngestedFile, in upload order
    if file.data is not None:
        store.put(file.data)                             # MediaStore(root): content-addressed
    imported.append(file.item())                         # ImportedItem for ItemsImported
result.errors, result.skipped, result.notes              # per file / row; never abort the rest
media_type(store.read(h)[:SNIFF_BYTES])                  # served type, sniffed from the bytes
"""

from server.media.content_types import (
    MEDIA_TYPES,
    SNIFF_BYTES,
    TEXT_MEDIA_TYPE,
    UNKNOWN_MEDIA_TYPE,
    Format,
    media_type,
    media_type_for,
    sniff,
)
from server.media.errors import (
    FileRejected,
    InvalidHashError,
    MediaError,
    MediaNotFoundError,
    UploadTooLargeError,
)
from server.media.ingest import DEFAULT_LIMITS, ingest
from server.media.limits import IngestLimits
from server.media.results import FileError, FileNote, IngestedFile, IngestResult, Skipped
from server.media.storage import MediaStore, check_hash, content_hash

__all__ = [
    "DEFAULT_LIMITS",
    "MEDIA_TYPES",
    "SNIFF_BYTES",
    "TEXT_MEDIA_TYPE",
    "UNKNOWN_MEDIA_TYPE",
    "FileError",
    "FileNote",
    "FileRejected",
    "Format",
    "IngestLimits",
    "IngestResult",
    "IngestedFile",
    "InvalidHashError",
    "MediaError",
    "MediaNotFoundError",
    "MediaStore",
    "Skipped",
    "UploadTooLargeError",
    "check_hash",
    "content_hash",
    "ingest",
    "media_type",
    "media_type_for",
    "sniff",
]
