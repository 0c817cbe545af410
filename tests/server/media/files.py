"""Test data made on the spot: images from Pillow, archives from zipfile and tarfile."""

import io
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image

# Bundled inside the pydicom wheel itself, so no download is ever attempted.
CT_SMALL = Path(pydicom.__file__).parent / "data" / "test_files" / "CT_small.dcm"


def image_bytes(fmt: str = "PNG", width: int = 40, height: int = 30, seed: int = 0) -> bytes:
    """Return a noisy RGB image in Pillow format `fmt`; each seed gives different bytes."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, fmt)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """Return a well-formed PNG claiming `width`×`height` whose pixel data is one empty row."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        _chunk(kind, body)
        for kind, body in ((b"IHDR", ihdr), (b"IDAT", zlib.compress(b"\x00")), (b"IEND", b""))
    )


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def ct_small() -> bytes:
    """Return pydicom's bundled 128×128 CT slice."""
    return CT_SMALL.read_bytes()


def zip_bytes(*members: tuple[str | zipfile.ZipInfo, bytes]) -> bytes:
    """Return a deflated zip archive holding `members` in order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


def tar_bytes(*members: tarfile.TarInfo | tuple[str, bytes], mode: str = "w") -> bytes:
    """Return a tar archive (mode "w:gz" for gzip) of files (name, data) and bare headers."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as archive:  # type: ignore[call-overload]
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                archive.addfile(member)
            else:
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                archive.addfile(info, io.BytesIO(member[1]))
    return out.getvalue()


def symlink(name: str, target: str) -> tarfile.TarInfo:
    """Return the tar header of a symbolic link."""
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info
