"""Bad uploads get a clear DicomError (never a crash) before anything would be stored."""

import random
import struct
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom.encaps import encapsulate, get_frame
from pydicom.uid import UID

from server.dicom import (
    DicomError,
    ImageTooLargeError,
    InvalidImageError,
    Limits,
    NotDicomError,
    TruncatedPixelDataError,
    UnsupportedImageError,
    UnsupportedTransferSyntaxError,
    encode_png,
    read_dicom,
)
from server.dicom.errors import CONTENT_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE
from server.dicom.preflight import dataset_start
from tests.server.dicom.files import dataset, dicom_bytes, to_bytes


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"hello, this is a text file\n" * 20,
        b"\x89PNG\r\n\x1a\n" + bytes(300),
        bytes(128) + b"DIC",
    ],
)
def test_a_non_dicom_file_named_dcm_is_refused(tmp_path: Path, content: bytes) -> None:
    upload = tmp_path / "scan.dcm"
    upload.write_bytes(content)
    with pytest.raises(NotDicomError, match="not DICOM") as caught:
        read_dicom(upload.read_bytes())
    assert caught.value.status == UNSUPPORTED_MEDIA_TYPE


def test_garbage_after_the_dicom_marker_is_refused() -> None:
    with pytest.raises(DicomError):
        read_dicom(bytes(128) + b"DICM" + b"\x02\x00\x10\x00UI\xff\xff" + bytes(40))


@pytest.mark.parametrize("keep", [140, 400, 1000, 2000])
def test_a_file_cut_in_its_header_is_refused(keep: int) -> None:
    with pytest.raises(DicomError):
        read_dicom(dicom_bytes("CT_small.dcm")[:keep])


def test_truncated_native_pixel_data_is_refused() -> None:
    with pytest.raises(TruncatedPixelDataError, match="8130 bytes where the image needs 8192"):
        read_dicom(dicom_bytes("MR_truncated.dcm"))


def test_a_native_file_cut_in_its_pixel_data_is_refused() -> None:
    with pytest.raises(InvalidImageError, match="truncated"):
        read_dicom(dicom_bytes("MR_small.dcm")[:-1000])


def test_truncated_compressed_pixel_data_is_refused() -> None:
    with pytest.raises(InvalidImageError, match="truncated"):
        read_dicom(dicom_bytes("emri_small_jpeg_2k_lossless_too_short.dcm"))


def test_a_corrupt_compressed_frame_is_refused() -> None:
    ds = dataset("MR_small_RLE.dcm")
    ds.PixelData = encapsulate([b"\x01\x00\x00\x00" + bytes(60)])
    with pytest.raises(InvalidImageError, match="frame 0 could not be decoded"):
        read_dicom(to_bytes(ds))


@pytest.mark.parametrize(
    ("rows", "columns", "frames", "what"),
    [(65535, 65535, 1, "one 65535×65535 frame"), (4096, 4096, 5000, "5000 frames")],
)
def test_huge_dimensions_are_refused_before_decoding(
    rows: int, columns: int, frames: int, what: str
) -> None:
    ds = dataset("MR_small.dcm")
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, columns, frames
    data = to_bytes(ds)
    tracemalloc.start()
    try:
        with pytest.raises(ImageTooLargeError, match=what) as caught:
            read_dicom(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20
    assert caught.value.status == CONTENT_TOO_LARGE


def test_limits_are_configurable() -> None:
    with pytest.raises(ImageTooLargeError):
        read_dicom(dicom_bytes("693_UNCI.dcm"), Limits(max_frame_bytes=512 * 512))
    read_dicom(dicom_bytes("693_UNCI.dcm"), Limits(max_frame_bytes=512 * 512 * 2))


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [
        ("BitsStored", 20, "Bits Stored is 20, outside 1..16"),
        ("BitsStored", 0, "Bits Stored is 0"),
        ("HighBit", 16, "High Bit is 16"),
        ("BitsAllocated", 12, "Bits Allocated is 12"),
        ("PixelRepresentation", 2, "Pixel Representation is 2"),
        ("Rows", 0, "0 rows"),
    ],
)
def test_inconsistent_pixel_attributes_are_refused(
    attribute: str, value: int, message: str
) -> None:
    ds = dataset("MR_small.dcm")
    setattr(ds, attribute, value)
    with pytest.raises(InvalidImageError, match=message):
        read_dicom(to_bytes(ds))


def test_an_unsupported_transfer_syntax_is_named() -> None:
    ds = dataset("MR_small.dcm")
    ds.PixelData = encapsulate([ds.PixelData])
    ds.file_meta.TransferSyntaxUID = UID("1.2.840.10008.1.2.4.100")
    with pytest.raises(UnsupportedTransferSyntaxError, match="MPEG2") as caught:
        read_dicom(to_bytes(ds))
    assert caught.value.uid == "1.2.840.10008.1.2.4.100"
    assert caught.value.status == UNSUPPORTED_MEDIA_TYPE


def test_a_file_without_an_image_is_refused() -> None:
    with pytest.raises(UnsupportedImageError, match="no Pixel Data"):
        read_dicom(dicom_bytes("rtplan.dcm"))


def test_a_bad_number_of_frames_is_refused() -> None:
    with pytest.raises(InvalidImageError, match="Number of Frames"):
        read_dicom(dicom_bytes("badVR.dcm"))


def test_a_lut_shorter_than_its_descriptor_is_refused() -> None:
    ds = dataset("vlut_04.dcm")
    ds.VOILUTSequence[0].LUTData = ds.VOILUTSequence[0].LUTData[:100]
    with pytest.raises(InvalidImageError, match="100 entries, its descriptor 256"):
        read_dicom(to_bytes(ds))


def _with_frame(name: str, patch: Callable[[bytes], bytes]) -> bytes:
    ds = dataset(name)
    frame = get_frame(ds.PixelData, 0, number_of_frames=1)
    ds.PixelData = encapsulate([patch(frame)])
    return to_bytes(ds)


def _j2k_claiming_60000_square(frame: bytes) -> bytes:
    at = frame.find(b"\xff\x4f\xff\x51")
    siz = struct.pack(">LLLL", 60000, 60000, 0, 0)
    return frame[: at + 8] + siz + frame[at + 24 :]


def _jpeg_ls_claiming_60000_square(frame: bytes) -> bytes:
    at = frame.find(b"\xff\xf7")
    return frame[: at + 5] + struct.pack(">HH", 60000, 60000) + frame[at + 9 :]


@pytest.mark.parametrize(
    ("name", "patch"),
    [
        ("MR_small_jp2klossless.dcm", _j2k_claiming_60000_square),
        ("MR_small_jpeg_ls_lossless.dcm", _jpeg_ls_claiming_60000_square),
    ],
)
def test_a_codestream_larger_than_the_image_is_refused_before_decoding(
    name: str, patch: Callable[[bytes], bytes]
) -> None:
    with pytest.raises(InvalidImageError, match="encoded as 60000×60000 pixels but the file says"):
        read_dicom(_with_frame(name, patch))


def test_a_deflated_dataset_is_refused_before_it_inflates_past_the_limit() -> None:
    data = dicom_bytes("image_dfl.dcm")  # 512×512 8-bit, Deflated Explicit VR Little Endian
    read_dicom(data)
    with pytest.raises(ImageTooLargeError, match="inflated"):
        read_dicom(data, Limits(max_inflated_bytes=100_000))


def test_a_corrupt_deflated_dataset_is_refused() -> None:
    data = dicom_bytes("image_dfl.dcm")
    start, syntax = dataset_start(data)
    assert syntax == "1.2.840.10008.1.2.1.99"
    with pytest.raises(NotDicomError, match="deflated"):
        read_dicom(data[:start] + b"\xff" * 64 + data[start + 64 :])


@pytest.mark.parametrize("cut", range(132, 200, 3))
def test_a_file_cut_in_its_meta_group_is_refused(cut: int) -> None:
    with pytest.raises(DicomError):
        read_dicom(dicom_bytes("image_dfl.dcm")[:cut])


@pytest.mark.parametrize(
    "name",
    [
        "CT_small.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "MR_small_RLE.dcm",
        "vlut_04.dcm",
        "image_dfl.dcm",
        "OBXXXX1A_rle.dcm",
    ],
)
def test_damaged_files_raise_dicom_errors_only(name: str) -> None:
    # Seeded byte damage, mostly in the header where the attributes are: whatever happens,
    # the caller sees a DicomError or a displayable image, never another exception.
    rng = random.Random(name)
    original = dicom_bytes(name)
    for _ in range(60):
        damaged = bytearray(original)
        for _ in range(rng.choice([1, 2, 5, 20])):
            damaged[rng.randrange(132, min(len(damaged), 1500))] = rng.randrange(256)
        if rng.random() < 0.2:
            damaged = damaged[: rng.randrange(132, len(damaged))]
        try:
            image = read_dicom(bytes(damaged))
            encode_png(image.render(image.metadata.frames - 1))
        except DicomError:
            pass
