"""Turn one upload (a file or an archive of files) into items, refusing bad files one by one.

What a file is, is decided by its name and confirmed by its bytes:

    .png .jpg .jpeg .gif .bmp .webp .tif .tiff   an image; any of these formats is accepted
    .dcm .dicom, or no known suffix and DICM at 128   a DICOM instance
    .txt                                     one text item per line that is not blank
    .csv                                     one per record; a `text` column, optional `id`
    .jsonl .ndjson                           one per line: {"text": ..., "id"?: ...}
    .zip .tar .tar.gz .tgz .tar.bz2 .tar.xz  an archive: each member as above, none nested

Media items are named by their first 16 hex digits of sha256; text rows keep a valid `id`.
Within one upload, content seen before is skipped and reported, not imported twice.
"""

import re
from collections.abc import Iterator
from typing import Final, Literal

from server.media.archives import MAX_NAME_CHARS, Member, archive_suffix, read_archive
from server.media.content_types import (
    ARCHIVE_FORMATS,
    IMAGE_FORMATS,
    SNIFF_BYTES,
    TEXT_MEDIA_TYPE,
    Format,
    sniff,
)
from server.media.errors import FileRejected, UploadTooLargeError
from server.media.images import probe_dicom, probe_image
from server.media.limits import IngestLimits
from server.media.results import FileError, FileNote, IngestedFile, IngestResult, Skipped
from server.media.storage import content_hash
from server.media.text import RowError, TextRow, parse_csv, parse_jsonl, parse_txt

IMAGE_SUFFIXES: Final[dict[str, Format]] = {
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".jpe": "jpeg",
    ".jfif": "jpeg",
    ".gif": "gif",
    ".bmp": "bmp",
    ".webp": "webp",
    ".tif": "tiff",
    ".tiff": "tiff",
}
DICOM_SUFFIXES: Final = frozenset({".dcm", ".dicom"})
TEXT_PARSERS: Final = {
    ".txt": parse_txt,
    ".csv": parse_csv,
    ".jsonl": parse_jsonl,
    ".ndjson": parse_jsonl,
}
ITEM_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
DEFAULT_LIMITS: Final = IngestLimits()
_SUPPORTED: Final = (
    "images (.png, .jpg, .gif, .bmp, .webp, .tif), DICOM (.dcm), text (.txt, .csv, .jsonl) "
    "or archives (.zip, .tar, .tar.gz)"
)


def ingest(filename: str, data: bytes, *, limits: IngestLimits = DEFAULT_LIMITS) -> IngestResult:
    """Return the items in the upload `data` named `filename`, with every file refused or skipped.

    Raises UploadTooLargeError when `data` is over `limits.max_upload_bytes`; every other
    problem is reported per file (or per text row) and the other files go on.
    """
    if len(data) > limits.max_upload_bytes:
        raise UploadTooLargeError(len(data), limits.max_upload_bytes)
    batch = _Batch(limits)
    try:
        if archive_suffix(filename) is None:
            batch.add_file(filename, data, in_archive=False)
        else:
            batch.add_archive(filename, data)
    except _Full:
        batch.errors.append(
            FileError(
                filename,
                f"the upload holds more than {limits.max_items:,} items; the rest were not read",
            )
        )
    return IngestResult(
        items=batch.items, errors=batch.errors, skipped=batch.skipped, notes=batch.notes
    )


def _suffix(name: str) -> str:
    """Return the lower-case suffix of the last part of `name`, dot included, or ""."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    dot = base.rfind(".")
    return base[dot:] if dot > 0 else ""


def _describe(fmt: Format | None) -> str:
    """Say what the bytes look like, for messages about files that are not what they claim."""
    return "of unknown type" if fmt is None else f"{fmt.upper()} data"


def _media_kind(suffix: str, fmt: Format | None) -> Literal["image", "dicom"]:
    """Return what a file that is not text holds, by its suffix checked against its bytes."""
    if suffix in IMAGE_SUFFIXES:
        if fmt not in IMAGE_FORMATS:
            raise FileRejected(f"the file is named {suffix} but is not an image: {_describe(fmt)}")
        return "image"
    if suffix in DICOM_SUFFIXES or fmt == "dicom":
        return "dicom"
    if fmt in IMAGE_FORMATS:
        return "image"
    what = f"files named {suffix}" if suffix else "files without a suffix"
    raise FileRejected(f"{what} are not supported ({_describe(fmt)}): upload {_SUPPORTED}")


class _Full(Exception):
    """Raised when the upload reaches `max_items`."""


class _Batch:
    """Items accepted so far in one upload, with the hashes and ids they took."""

    def __init__(self, limits: IngestLimits) -> None:
        self.limits = limits
        self.items: list[IngestedFile] = []
        self.errors: list[FileError] = []
        self.skipped: list[Skipped] = []
        self.notes: list[FileNote] = []
        self.names_by_hash: dict[str, str] = {}
        self.names_by_id: dict[str, str] = {}

    def add_archive(self, name: str, data: bytes) -> None:
        """Add every member of the archive; refuse the archive itself if it cannot be read."""
        try:
            entries = 0
            for entry in read_archive(name, data, self.limits):
                entries += 1
                match entry:
                    case Member():
                        self.add_file(entry.name, entry.data, in_archive=True)
                    case FileError():
                        self.errors.append(entry)
                    case Skipped():
                        self.skipped.append(entry)
            if entries == 0:
                self.errors.append(FileError(name, "the archive holds no files"))
        except FileRejected as exc:
            self.errors.append(FileError(name, exc.message))

    def add_file(self, name: str, data: bytes, *, in_archive: bool) -> None:
        """Add the items of one file, or record why it was refused."""
        try:
            self._add_file(name, data, in_archive=in_archive)
        except FileRejected as exc:
            self.errors.append(FileError(name, exc.message))

    def _add_file(self, name: str, data: bytes, *, in_archive: bool) -> None:
        if len(name) > MAX_NAME_CHARS:
            raise FileRejected(f"the file's name is longer than {MAX_NAME_CHARS:,} characters")
        if not data:
            raise FileRejected("the file is empty")
        if len(data) > self.limits.max_file_bytes:
            raise FileRejected(
                f"the file has {len(data):,} bytes, the limit is {self.limits.max_file_bytes:,}"
            )
        suffix = _suffix(name)
        fmt = sniff(data[:SNIFF_BYTES])
        if in_archive and (archive_suffix(name) is not None or fmt in ARCHIVE_FORMATS):
            raise FileRejected("nested archives are not expanded: upload it on its own")
        if suffix in TEXT_PARSERS:
            if fmt is not None:
                raise FileRejected(f"the file is named {suffix} but is not text: {_describe(fmt)}")
            self._add_rows(name, TEXT_PARSERS[suffix](data))
            return
        kind = _media_kind(suffix, fmt)
        digest = content_hash(data)
        # Checked before probing, so that a repeated image is not decoded again.
        if self._seen(name, digest):
            return
        picture = (
            probe_dicom(data, self.limits) if kind == "dicom" else probe_image(data, self.limits)
        )
        if kind == "image" and IMAGE_SUFFIXES.get(suffix, picture.format) != picture.format:
            self.notes.append(
                FileNote(
                    name,
                    f"the file is named {suffix} but holds {picture.format.upper()} data; "
                    f"it is served as {picture.media_type}",
                )
            )
        item_id = digest[:16]
        self._take_id(item_id, name)
        self._append(
            IngestedFile(
                item_id=item_id,
                kind=kind,
                content_hash=digest,
                size_bytes=len(data),
                name=name,
                media_type=picture.media_type,
                width=picture.width,
                height=picture.height,
                frames=picture.frames,
                data=data,
            )
        )
        self.notes.extend(FileNote(name, f"the decoder warned: {w}") for w in picture.warnings)

    def _add_rows(self, name: str, rows: Iterator[TextRow | RowError]) -> None:
        for row in rows:
            try:
                match row:
                    case RowError():
                        raise FileRejected(row.message)
                    case TextRow():
                        self._add_text(f"{name}:{row.line}", row)
            except FileRejected as exc:
                self.errors.append(FileError(name, f"line {row.line}: {exc.message}"))

    def _add_text(self, item_name: str, row: TextRow) -> None:
        text = row.text
        if not text.strip():
            raise FileRejected("the text is empty")
        if len(text) > self.limits.max_text_chars:
            raise FileRejected(
                f"the text has {len(text):,} characters, the limit is "
                f"{self.limits.max_text_chars:,}"
            )
        try:
            encoded = text.encode("utf-8")
        except UnicodeEncodeError:
            raise FileRejected(
                "the text holds a lone surrogate, which is not Unicode text"
            ) from None
        digest = content_hash(encoded)
        if self._seen(item_name, digest):
            return
        item_id = digest[:16]
        if row.given_id is not None:
            if ITEM_ID.fullmatch(row.given_id):
                item_id = row.given_id
            else:
                self.notes.append(
                    FileNote(
                        item_name,
                        f"id {row.given_id[:80]!r} is not a valid item id (a letter or digit, then "
                        f"up to 63 letters, digits, `_`, `.` or `-`); the item is {item_id}",
                    )
                )
        self._take_id(item_id, item_name)
        self._append(
            IngestedFile(
                item_id=item_id,
                kind="text",
                content_hash=digest,
                size_bytes=len(encoded),
                name=item_name,
                media_type=TEXT_MEDIA_TYPE,
                text=text,
            )
        )

    def _seen(self, name: str, digest: str) -> bool:
        """Record a skip and return True if this content was already accepted in this upload."""
        first = self.names_by_hash.get(digest)
        if first is None:
            return False
        self.skipped.append(Skipped(name, f"the same content as {first!r}"))
        return True

    def _take_id(self, item_id: str, name: str) -> None:
        holder = self.names_by_id.get(item_id)
        if holder is not None:
            raise FileRejected(f"id {item_id!r} is already taken by {holder!r}")

    def _append(self, item: IngestedFile) -> None:
        if len(self.items) >= self.limits.max_items:
            raise _Full
        self.items.append(item)
        self.names_by_hash[item.content_hash] = item.name
        self.names_by_id[item.item_id] = item.name
