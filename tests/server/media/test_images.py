"""Images and DICOM: measured when whole, refused by name when damaged, disguised or too big."""

import hashlib

import msgspec
import pytest

from events.project import ItemsImported
from server.media import IngestLimits, IngestResult, ingest
from tests.server.media.files import ct_small, image_bytes, png_header_only


def only_error(result: IngestResult) -> str:
    assert result.items == []
    assert len(result.errors) == 1, result.errors
    return result.errors[0].message


@pytest.mark.parametrize(
    ("name", "pillow_format", "media_type"),
    [
        ("cat.png", "PNG", "image/png"),
        ("cat.jpg", "JPEG", "image/jpeg"),
        ("cat.jpeg", "JPEG", "image/jpeg"),
        ("cat.gif", "GIF", "image/gif"),
        ("cat.bmp", "BMP", "image/bmp"),
        ("cat.webp", "WEBP", "image/webp"),
        ("CAT.TIF", "TIFF", "image/tiff"),
    ],
)
def test_each_image_format_becomes_one_measured_item(
    name: str, pillow_format: str, media_type: str
) -> None:
    data = image_bytes(pillow_format, width=40, height=30)
    result = ingest(name, data)
    assert (result.errors, result.skipped, result.notes) == ([], [], [])
    [file] = result.items
    digest = hashlib.sha256(data).hexdigest()
    assert (file.kind, file.name, file.media_type) == ("image", name, media_type)
    assert (file.width, file.height, file.frames) == (40, 30, 1)
    assert (file.content_hash, file.item_id, file.size_bytes) == (digest, digest[:16], len(data))
    assert file.data == data
    assert file.text is None


def test_items_pass_the_event_logs_own_validation() -> None:
    result = ingest("cat.png", image_bytes())
    event = ItemsImported(items=[file.item(uri="/media/x") for file in result.items])
    encoded = msgspec.json.encode(event)
    assert msgspec.json.decode(encoded, type=ItemsImported) == event


@pytest.mark.parametrize("pillow_format", ["PNG", "JPEG", "GIF", "TIFF"])
def test_a_truncated_image_is_refused(pillow_format: str) -> None:
    data = image_bytes(pillow_format, width=120, height=90)
    message = only_error(ingest("cut.img.png", data[: len(data) * 2 // 3]))
    assert "damaged or truncated" in message


def test_a_text_file_named_png_is_refused_as_not_an_image() -> None:
    message = only_error(ingest("notes.png", b"just some text\n"))
    assert message == "the file is named .png but is not an image: of unknown type"


def test_dicom_named_png_is_not_an_image_either() -> None:
    assert "DICOM data" in only_error(ingest("scan.png", ct_small()))


def test_a_jpeg_named_png_is_accepted_with_a_note_and_served_as_jpeg() -> None:
    result = ingest("photo.png", image_bytes("JPEG"))
    [file] = result.items
    assert file.media_type == "image/jpeg"
    [note] = result.notes
    assert "named .png but holds JPEG data" in note.message


def test_an_image_over_the_pixel_limit_is_refused_by_size() -> None:
    message = only_error(ingest("big.png", image_bytes(), limits=IngestLimits(max_pixels=1000)))
    assert message == "the image is too large: 40×30 is 1,200 pixels, the limit is 1,000"


def test_a_decompression_bomb_header_is_refused_before_any_pixel_is_decoded() -> None:
    # 50,000² pixels trips Pillow's own DecompressionBombError inside Image.open.
    message = only_error(ingest("bomb.png", png_header_only(50_000, 50_000)))
    assert message == "the image is too large: more than 100,000,000 pixels"


def test_pillows_bomb_warning_is_never_leaked() -> None:
    # 95 MP is past Pillow's warning threshold but within ours; the header has no pixels.
    message = only_error(ingest("bomb.png", png_header_only(10_000, 9_500)))
    assert "damaged or truncated" in message


def test_a_side_longer_than_the_event_log_accepts_is_refused() -> None:
    message = only_error(ingest("strip.png", png_header_only(200_000, 1)))
    assert "no side may exceed 100,000" in message


def test_dicom_is_measured_by_the_dicom_decoder() -> None:
    data = ct_small()
    for name in ("slice.dcm", "IM0001"):
        [file] = ingest(name, data).items
        assert (file.kind, file.media_type) == ("dicom", "application/dicom")
        assert (file.width, file.height, file.frames) == (128, 128, 1)
        assert file.data == data


@pytest.mark.parametrize("data", [b"hello, not DICOM", image_bytes()])
def test_a_dcm_that_is_not_dicom_is_refused(data: bytes) -> None:
    assert "not DICOM" in only_error(ingest("fake.dcm", data))


def test_a_truncated_dicom_is_refused() -> None:
    data = ct_small()
    assert "truncated" in only_error(ingest("cut.dcm", data[: len(data) - 5000]))


def test_an_empty_file_is_refused() -> None:
    assert only_error(ingest("empty.png", b"")) == "the file is empty"
