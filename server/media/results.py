"""What ingest hands back: accepted items with their bytes, and what it refused or skipped."""

import msgspec

from events.project import ImportedItem, MediaKind


class IngestedFile(msgspec.Struct, frozen=True, kw_only=True):
    """One accepted item: the fields of its ImportedItem, and the bytes to store (None for text)."""

    item_id: str
    kind: MediaKind
    content_hash: str
    size_bytes: int
    name: str
    media_type: str
    width: int = 0
    height: int = 0
    frames: int = 1
    text: str | None = None
    data: bytes | None = None

    def item(self, uri: str | None = None) -> ImportedItem:
        """Return the ImportedItem that records this file in the log."""
        return ImportedItem(
            item_id=self.item_id,
            kind=self.kind,
            content_hash=self.content_hash,
            size_bytes=self.size_bytes,
            name=self.name,
            width=self.width,
            height=self.height,
            frames=self.frames,
            text=self.text,
            uri=uri,
        )


class FileError(msgspec.Struct, frozen=True):
    """A file, archive member or text row that was refused; `message` says why (and which line)."""

    name: str
    message: str


class Skipped(msgspec.Struct, frozen=True):
    """A file left out on purpose, such as a duplicate or a directory's metadata file."""

    name: str
    reason: str


class FileNote(msgspec.Struct, frozen=True):
    """Something the uploader should know about an accepted file, such as a replaced id."""

    name: str
    message: str


class IngestResult(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one upload yielded, in upload order."""

    items: list[IngestedFile]
    errors: list[FileError]
    skipped: list[Skipped]
    notes: list[FileNote]
