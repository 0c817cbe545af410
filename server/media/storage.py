"""Content-addressed media storage: each blob lives at a path named by its sha256."""

import hashlib
import os
import re
import tempfile
from pathlib import Path

from server.media.errors import InvalidHashError, MediaNotFoundError

_HASH = re.compile(r"[0-9a-f]{64}")


def check_hash(content_hash: str) -> str:
    """Return `content_hash` if it is 64 lowercase hex digits, else raise InvalidHashError."""
    # fullmatch, not match with $: "$" would accept a trailing newline.
    if not _HASH.fullmatch(content_hash):
        raise InvalidHashError(content_hash)
    return content_hash


def content_hash(data: bytes) -> str:
    """Return the sha256 of `data` as lowercase hex."""
    return hashlib.sha256(data).hexdigest()


class MediaStore:
    """Blobs under `root`, at `root/ab/<hash>`: written once, atomically, never changed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, content_hash: str) -> Path:
        """Return where the blob with this hash lives (whether or not it exists)."""
        check_hash(content_hash)
        # A two-hex-digit fan-out keeps directories small at a million items.
        return self.root / content_hash[:2] / content_hash

    def exists(self, content_hash: str) -> bool:
        """Return whether a blob with this hash is stored."""
        return self.path(content_hash).is_file()

    def read(self, content_hash: str) -> bytes:
        """Return the stored bytes; raise MediaNotFoundError if there are none."""
        try:
            return self.path(content_hash).read_bytes()
        except FileNotFoundError:
            raise MediaNotFoundError(content_hash) from None

    def put(self, data: bytes) -> str:
        """Store `data` durably under its sha256 and return the hash; storing twice is a no-op."""
        digest = content_hash(data)
        final = self.path(digest)
        if final.is_file():
            return digest
        if not final.parent.is_dir():
            final.parent.mkdir(parents=True, exist_ok=True)
            _fsync_directory(self.root)
        # The temporary file sits beside the final one so that os.replace is a same-directory
        # rename: readers see either no file or the whole file, never a part of it.
        fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=final.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            # mkstemp makes the file 0600; a blob is as readable as any file open() would make.
            os.chmod(temp, 0o644)
            os.replace(temp, final)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        _fsync_directory(final.parent)
        return digest


def _fsync_directory(directory: Path) -> None:
    """Flush the directory entry so the rename survives a power cut, not only the data."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
