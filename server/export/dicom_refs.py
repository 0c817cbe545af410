"""The SOP Instance UID of a DICOM item, read from its stored file's header."""

import functools
import logging
from collections.abc import Callable
from pathlib import Path

from server.media.storage import MediaStore

log = logging.getLogger(__name__)
Lookup = Callable[[str], str | None]


def uid_lookup(media: MediaStore) -> Lookup:
    """A function from an item's content hash to its SOP Instance UID (None if unreadable).

    Only the header is parsed (the pixel data is not read), and answers are cached a few
    thousand at a time, so an export reads each DICOM file's first kilobytes once.
    """

    @functools.lru_cache(maxsize=4096)
    def lookup(content_hash: str) -> str | None:
        return read_uid(media.path(content_hash))

    return lookup


def read_uid(path: Path) -> str | None:
    from pydicom import dcmread

    try:
        dataset = dcmread(path, stop_before_pixels=True, specific_tags=["SOPInstanceUID"])
        uid = dataset.get("SOPInstanceUID")
    except Exception as exc:
        # The file was checked at ingest; a failure now is a damaged store, not a bad upload.
        log.warning("cannot read the SOP Instance UID of %s: %s", path.name, exc)
        return None
    return str(uid) if uid else None
