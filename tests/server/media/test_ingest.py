"""Dispatch by name and bytes, the limits' defaults and checks, and what ingest refuses outright."""

import random

import pytest

from server.media import IngestLimits, content_hash, ingest
from tests.server.media.files import ct_small, image_bytes, tar_bytes, zip_bytes


def test_the_default_limits_are_the_documented_ones() -> None:
    limits = IngestLimits()
    assert limits.max_upload_bytes == 512 * 2**20
    assert limits.max_file_bytes == 256 * 2**20
    assert limits.max_pixels == 100_000_000
    assert limits.max_archive_members == 10_000
    assert limits.max_total_uncompressed == 2 * 2**30
    assert limits.max_ratio == 100
    assert limits.max_text_chars == 100_000
    assert limits.max_items == 100_000


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_pixels", 0, "IngestLimits.max_pixels must be at least 1"),
        ("max_ratio", -5, "IngestLimits.max_ratio must be at least 1"),
        ("max_text_chars", 100_001, "IngestLimits.max_text_chars cannot exceed 100,000"),
    ],
)
def test_limits_out_of_range_are_refused(field: str, value: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        IngestLimits(**{field: value})


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "report.docx",
            zip_bytes(("word/document.xml", b"<w/>")),
            "files named .docx are not supported (ZIP data): upload images (.png, .jpg, .gif, "
            ".bmp, .webp, .tif), DICOM (.dcm), text (.txt, .csv, .jsonl) or archives "
            "(.zip, .tar, .tar.gz)",
        ),
        ("README", b"hello", "files without a suffix are not supported (of unknown type)"),
        ("a" * 1001 + ".png", image_bytes(), "the file's name is longer than 1,000 characters"),
    ],
)
def test_what_ingest_does_not_take_is_named(name: str, data: bytes, message: str) -> None:
    result = ingest(name, data)
    assert result.items == []
    [error] = result.errors
    assert error.name == name
    assert error.message.startswith(message)


def test_an_image_without_a_known_suffix_is_taken_by_its_bytes() -> None:
    [file] = ingest("C:\\fakepath\\upload", image_bytes("WEBP")).items
    assert (file.kind, file.media_type) == ("image", "image/webp")


def test_the_file_size_limit_applies_to_single_files_too() -> None:
    result = ingest("cat.png", image_bytes(), limits=IngestLimits(max_file_bytes=100))
    assert [e.message for e in result.errors] == [
        f"the file has {len(image_bytes()):,} bytes, the limit is 100"
    ]


def _valid_uploads() -> list[tuple[str, bytes]]:
    return [
        ("a.png", image_bytes("PNG")),
        ("a.jpg", image_bytes("JPEG")),
        ("a.gif", image_bytes("GIF")),
        ("a.bmp", image_bytes("BMP")),
        ("a.webp", image_bytes("WEBP")),
        ("a.tif", image_bytes("TIFF")),
        ("a.dcm", ct_small()),
        ("a.zip", zip_bytes(("x.png", image_bytes()), ("y.csv", b"id,text\n1,hi\n"))),
        ("a.tar.gz", tar_bytes(("x.png", image_bytes()), ("y.txt", b"hi\n"), mode="w:gz")),
        ("a.jsonl", b'{"text": "hi", "id": "x"}\n{"text": "\\u00e9"}\n'),
    ]


@pytest.mark.parametrize(("name", "valid"), _valid_uploads())
def test_damaged_uploads_never_raise_or_warn(name: str, valid: bytes) -> None:
    rng = random.Random(name)
    for _ in range(25):
        data = bytearray(valid)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.5:
            del data[rng.randrange(len(data)) :]
        result = ingest(name, bytes(data))
        for file in result.items:
            assert file.data is None or file.content_hash == content_hash(file.data)
            file.item()
