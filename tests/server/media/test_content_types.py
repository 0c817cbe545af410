"""Media types come from the bytes, never from a name."""

import pytest

from server.media import (
    TEXT_MEDIA_TYPE,
    UNKNOWN_MEDIA_TYPE,
    media_type,
    media_type_for,
    sniff,
)
from tests.server.media.files import ct_small, image_bytes, zip_bytes


@pytest.mark.parametrize(
    ("pillow_format", "expected"),
    [
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("GIF", "image/gif"),
        ("BMP", "image/bmp"),
        ("WEBP", "image/webp"),
        ("TIFF", "image/tiff"),
    ],
)
def test_images_are_typed_by_their_signature(pillow_format: str, expected: str) -> None:
    assert media_type(image_bytes(pillow_format)) == expected


def test_dicom_and_archives_are_recognised() -> None:
    assert media_type(ct_small()) == "application/dicom"
    assert sniff(zip_bytes(("a.txt", b"a"))) == "zip"


@pytest.mark.parametrize("head", [b"", b"hello", b"BM is how this text starts", b"\x00" * 300])
def test_unknown_bytes_are_served_as_octet_stream(head: bytes) -> None:
    assert sniff(head) is None
    assert media_type(head) == UNKNOWN_MEDIA_TYPE


def test_text_items_are_utf8_plain_text() -> None:
    assert media_type_for("text") == TEXT_MEDIA_TYPE == "text/plain; charset=utf-8"
    assert media_type_for("image", image_bytes("PNG")) == "image/png"
