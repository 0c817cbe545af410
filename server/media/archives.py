"""Read .zip and .tar(.gz/.bz2/.xz) archives member by member, never trusting their headers.

Every byte is read through a counter: a member stops at `max_file_bytes`, at `max_ratio` times
its compressed size, and the archive at `max_total_uncompressed`, whatever the headers claim.
Members are never written to disk, so their names only become item names; names that would
escape a directory (absolute, `..`), links and special files are refused all the same.
"""

import bz2
import gzip
import io
import lzma
import re
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from typing import IO, Final

import msgspec

from server.media.content_types import Format, sniff
from server.media.errors import FileRejected
from server.media.limits import IngestLimits, MiB
from server.media.results import FileError, Skipped

ARCHIVE_SUFFIXES: Final[dict[str, frozenset[Format]]] = {
    ".zip": frozenset({"zip"}),
    # A tar may be compressed or not whatever its name says: the bytes choose the decompressor.
    **dict.fromkeys(
        (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz"),
        frozenset({"tar", "gzip", "bzip2", "xz"}),
    ),
}
# Archive-like names refused inside an archive before their bytes are read.
NESTED_SUFFIXES: Final = (*ARCHIVE_SUFFIXES, ".gz", ".bz2", ".xz", ".7z", ".rar")
# Below this many bytes a high ratio is harmless (a small file of zeros compresses 1000×).
RATIO_FLOOR: Final = 1 * MiB
MAX_NAME_CHARS: Final = 1000
_CHUNK: Final = 1 * MiB
_DRIVE: Final = re.compile(r"^[A-Za-z]:")
# zipfile inflates bzip2 and lzma members without an output bound: 4 KiB of input can become
# hundreds of MiB in one call, before any counter sees it. Deflate is bounded, and is what
# every common archiver writes.
_ZIP_METHODS: Final = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_JUNK_NAMES: Final = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


class Member(msgspec.Struct, frozen=True):
    """One regular file read from an archive."""

    name: str
    data: bytes


Entry = Member | FileError | Skipped


def archive_suffix(name: str) -> str | None:
    """Return the archive suffix `name` ends with (".zip", ".tar.gz"...), or None."""
    lower = name.lower()
    return next((s for s in ARCHIVE_SUFFIXES if lower.endswith(s)), None)


def read_archive(name: str, data: bytes, limits: IngestLimits) -> Iterator[Entry]:
    """Yield each member of the archive `name` as a Member, a FileError or a Skipped."""
    suffix = archive_suffix(name)
    fmt = sniff(data[:512])
    if suffix is None or fmt not in ARCHIVE_SUFFIXES[suffix]:
        kind = "zip" if suffix == ".zip" else "tar"
        looks = "of unknown type" if fmt is None else f"{fmt.upper()} data"
        raise FileRejected(f"the file is named {suffix} but is not a {kind} archive: {looks}")
    if fmt == "zip":
        yield from _read_zip(data, limits)
    else:
        yield from _read_tar(name, data, fmt, limits)


def check_member_name(name: str) -> str:
    """Return the member's name with `.` and empty parts dropped; raise FileRejected if unsafe."""
    if any(ord(c) < 32 for c in name):
        raise FileRejected("the member's name contains control characters")
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise FileRejected("the member's name is an absolute path")
    # Windows archivers write backslashes; either separator could be honoured by an extractor.
    parts = [p for p in re.split(r"[\\/]", name) if p not in ("", ".")]
    if ".." in parts:
        raise FileRejected("the member's name climbs out of the archive with `..`")
    if not parts:
        raise FileRejected("the member has no name")
    if len(name) > MAX_NAME_CHARS:
        raise FileRejected(f"the member's name is longer than {MAX_NAME_CHARS:,} characters")
    return "/".join(parts)


def junk_reason(name: str) -> str | None:
    """Return why a member is operating-system clutter to skip, or None if it is content."""
    parts = name.split("/")
    if parts[0] == "__MACOSX" or parts[-1].startswith("._"):
        return "macOS resource data, not content"
    if parts[-1] in _JUNK_NAMES:
        return "file-manager metadata, not content"
    return None


class _Budget:
    """The bytes an archive may still expand to."""

    def __init__(self, limits: IngestLimits) -> None:
        self.limits = limits
        self.left = limits.max_total_uncompressed

    def exhausted(self) -> FileRejected:
        return FileRejected(
            f"the archive expands to more than {self.limits.max_total_uncompressed:,} bytes; "
            "this member and the rest were not read"
        )


class _StopArchive(Exception):
    """Raised with the error that ends the whole archive."""

    def __init__(self, error: FileRejected) -> None:
        super().__init__(error.message)
        self.error = error


def _member(raw_name: str, kind_problem: str | None) -> str:
    """Return the checked name of a member, or raise FileRejected for its name or its kind."""
    name = check_member_name(raw_name)
    if kind_problem is not None:
        raise FileRejected(kind_problem)
    if name.lower().endswith(NESTED_SUFFIXES):
        raise FileRejected("nested archives are not expanded: upload it on its own")
    return name


def _read_zip(data: bytes, limits: IngestLimits) -> Iterator[Entry]:
    """Yield the members of a zip archive."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception as exc:
        # zipfile raises BadZipFile, but also OSError, ValueError or EOFError on odd bytes.
        raise FileRejected(f"the zip archive is damaged: {exc}") from exc
    if len(infos) > limits.max_archive_members:
        raise FileRejected(
            f"the archive has {len(infos):,} members, the limit is {limits.max_archive_members:,}"
        )
    budget = _Budget(limits)
    with archive:
        for info in infos:
            if info.is_dir():
                continue
            try:
                yield _read_zip_member(archive, info, budget)
            except FileRejected as exc:
                yield FileError(info.filename, exc.message)
            except _StopArchive as stop:
                yield FileError(info.filename, stop.error.message)
                return


def _read_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> Entry:
    """Return one zip member as an entry, reading at most what the limits allow."""
    mode = info.external_attr >> 16
    problem = None
    if stat.S_ISLNK(mode):
        problem = "the member is a symbolic link"
    elif stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        problem = "the member is not a regular file"
    elif info.flag_bits & 0x1:
        problem = "the member is encrypted"
    elif info.compress_type not in _ZIP_METHODS:
        problem = (
            f"the member uses zip compression method {info.compress_type}; "
            "only stored and deflated members are read"
        )
    name = _member(info.filename, problem)
    junk = junk_reason(name)
    if junk is not None:
        return Skipped(name, junk)
    ratio_cap = max(budget.limits.max_ratio * info.compress_size, RATIO_FLOOR)
    try:
        with archive.open(info) as stream:
            data = _read_bounded(stream, budget, ratio_cap)
    except (FileRejected, _StopArchive):
        raise
    except Exception as exc:
        # Bad CRC, broken deflate data, unsupported compression methods...
        raise FileRejected(f"the member could not be decompressed: {exc}") from exc
    return Member(name, data)


def _read_bounded(stream: IO[bytes], budget: _Budget, ratio_cap: int) -> bytes:
    """Read `stream` to its end, refusing it past the file, ratio or archive limit."""
    limits = budget.limits
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        budget.left -= len(chunk)
        if budget.left < 0:
            raise _StopArchive(budget.exhausted())
        if size > limits.max_file_bytes:
            raise FileRejected(f"the member expands to more than {limits.max_file_bytes:,} bytes")
        if size > ratio_cap:
            raise FileRejected(
                f"the member expands more than {limits.max_ratio}× its compressed size "
                "(a zip bomb?)"
            )
        chunks.append(chunk)
    return b"".join(chunks)


class _Counted(io.RawIOBase):
    """A readable stream that refuses to give more than `cap` bytes in total."""

    def __init__(self, inner: io.BufferedIOBase, cap: int, error: FileRejected) -> None:
        self.inner = inner
        self.cap = cap
        self.error = error
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "memoryview | bytearray") -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        self.count += len(data)
        if self.count > self.cap:
            raise _StopArchive(self.error)
        buffer[: len(data)] = data
        return len(data)


def _read_tar(archive_name: str, data: bytes, fmt: Format, limits: IngestLimits) -> Iterator[Entry]:
    """Yield the members of a tar archive, compressed with gzip, bzip2 or xz or not at all."""
    # Headers take 512 bytes a member and the end adds up to one 10 KiB record.
    cap = limits.max_total_uncompressed + 1024 * limits.max_archive_members + tarfile.RECORDSIZE
    error = FileRejected(
        f"the archive expands to more than {limits.max_total_uncompressed:,} bytes; "
        "the rest was not read"
    )
    if fmt != "tar" and limits.max_ratio * len(data) < cap:
        cap = max(limits.max_ratio * len(data), RATIO_FLOOR)
        error = FileRejected(
            f"the archive expands more than {limits.max_ratio}× its compressed size "
            "(a decompression bomb?); the rest was not read"
        )
    budget = _Budget(limits)
    count = 0
    current = archive_name
    try:
        # "r|" reads as a stream: one pass, no seeking back through decompressed data.
        with (
            _decompressor(io.BytesIO(data), fmt) as inner,
            tarfile.open(
                fileobj=io.BufferedReader(_Counted(inner, cap, error), _CHUNK), mode="r|"
            ) as archive,
        ):
            for info in archive:
                current = info.name
                count += 1
                if count > limits.max_archive_members:
                    yield FileError(
                        info.name,
                        f"the archive has more than {limits.max_archive_members:,} members; "
                        "this one and the rest were not read",
                    )
                    return
                if info.isdir():
                    continue
                try:
                    yield _read_tar_member(archive, info, budget)
                except FileRejected as exc:
                    yield FileError(info.name, exc.message)
    except _StopArchive as stop:
        yield FileError(current, stop.error.message)
    except Exception as exc:
        # tarfile.ReadError, EOFError, zlib/lzma/bz2 errors, OSError on damaged streams.
        yield FileError(current, f"the tar archive is damaged: {exc}")


def _decompressor(raw: io.BytesIO, fmt: Format) -> io.BufferedIOBase:
    """Return a reader of the decompressed bytes of `raw`, which holds `fmt` data."""
    match fmt:
        case "gzip":
            return gzip.GzipFile(fileobj=raw)
        case "bzip2":
            return bz2.BZ2File(raw)
        case "xz":
            return lzma.LZMAFile(raw)
        case _:
            return raw


def _read_tar_member(archive: tarfile.TarFile, info: tarfile.TarInfo, budget: _Budget) -> Entry:
    """Return one tar member as an entry; its header size is checked before it is read."""
    problem = None
    if info.issym() or info.islnk():
        problem = "the member is a link"
    elif not info.isreg():
        problem = "the member is not a regular file"
    name = _member(info.name, problem)
    junk = junk_reason(name)
    if junk is not None:
        return Skipped(name, junk)
    limits = budget.limits
    if info.size > limits.max_file_bytes:
        raise FileRejected(
            f"the member has {info.size:,} bytes, the limit is {limits.max_file_bytes:,}"
        )
    if info.size > budget.left:
        raise _StopArchive(budget.exhausted())
    reader = archive.extractfile(info)
    if reader is None:
        raise FileRejected("the member is not a regular file")
    data = reader.read()
    budget.left -= len(data)
    return Member(name, data)
