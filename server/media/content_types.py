"""Media types for serving stored content, sniffed from its first bytes, never from a name."""

from typing import Final, Literal

Format = Literal[
    "png", "jpeg", "gif", "bmp", "webp", "tiff", "dicom", "zip", "gzip", "bzip2", "xz", "tar"
]

# Enough for every signature below: a tar header's "ustar" sits at offset 257.
SNIFF_BYTES: Final = 262

IMAGE_FORMATS: Final[frozenset[Format]] = frozenset({"png", "jpeg", "gif", "bmp", "webp", "tiff"})
ARCHIVE_FORMATS: Final[frozenset[Format]] = frozenset({"zip", "gzip", "bzip2", "xz", "tar"})

MEDIA_TYPES: Final[dict[Format, str]] = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "webp": "image/webp",
    "tiff": "image/tiff",
    "dicom": "application/dicom",
    "zip": "application/zip",
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "tar": "application/x-tar",
}
TEXT_MEDIA_TYPE: Final = "text/plain; charset=utf-8"
UNKNOWN_MEDIA_TYPE: Final = "application/octet-stream"

_PREFIXES: Final[tuple[tuple[bytes, Format], ...]] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),  # BigTIFF
    (b"MM\x00+", "tiff"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty zip is only its end record
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)


def sniff(head: bytes) -> Format | None:
    """Return the format that the leading bytes `head` carry the signature of, or None."""
    # First: a DICOM preamble is free-form, and some hold a TIFF header (dual-format files).
    if head[128:132] == b"DICM":
        return "dicom"
    for prefix, fmt in _PREFIXES:
        if head.startswith(prefix):
            return fmt
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    # BMP's "BM" alone matches too much text; its header size field must also be a known one.
    if head[:2] == b"BM" and head[14:18] in _BMP_HEADER_SIZES:
        return "bmp"
    if head[257:262] == b"ustar":
        return "tar"
    return None


_BMP_HEADER_SIZES: Final = frozenset(
    size.to_bytes(4, "little") for size in (12, 16, 40, 52, 56, 64, 108, 124)
)


def media_type(head: bytes) -> str:
    """Return the media type to serve stored bytes starting with `head` under."""
    fmt = sniff(head)
    return UNKNOWN_MEDIA_TYPE if fmt is None else MEDIA_TYPES[fmt]


def media_type_for(kind: str, head: bytes = b"") -> str:
    """Return the media type of an item of `kind` whose content starts with `head`."""
    return TEXT_MEDIA_TYPE if kind == "text" else media_type(head)
