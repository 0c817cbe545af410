"""The browser's modality values payload and the PNG of the display view."""

import zlib
from io import BytesIO

import numpy as np
import pytest
from PIL import Image
from pydicom.pixels.processing import apply_modality_lut

from server.dicom import decode_values, encode_png, encode_values, read_dicom
from server.dicom.values import HEADER
from tests.server.dicom.files import dataset, dicom_bytes


@pytest.mark.parametrize(
    ("name", "kind", "size"),
    [
        ("693_UNCI.dcm", b"i", 2),
        ("MR2_UNCI.dcm", b"u", 2),
        ("mlut_18.dcm", b"u", 2),
        ("vlut_04.dcm", b"u", 1),
        ("rtdose.dcm", b"u", 4),
    ],
)
def test_values_payload_equals_pydicom_modality_values(name: str, kind: bytes, size: int) -> None:
    image = read_dicom(dicom_bytes(name))
    payload = encode_values(image, 0)
    _, version, found_kind, found_size, rows, columns, *_ = HEADER.unpack_from(payload)
    assert (version, found_kind, found_size[0]) == (1, kind, size)
    assert (rows, columns) == (image.metadata.rows, image.metadata.columns)
    expected = apply_modality_lut(image.stored(0), dataset(name))
    np.testing.assert_array_equal(decode_values(payload), expected)


def test_values_payload_is_compact() -> None:
    image = read_dicom(dicom_bytes("693_UNCI.dcm"))
    payload = encode_values(image)
    assert len(payload) < 0.45 * 512 * 512 * 2
    planes = zlib.decompress(payload[HEADER.size :])
    samples = image.stored(0).astype("<i2").reshape(-1).view(np.uint8)
    # Byte planes: every sample's low byte, then every sample's high byte.
    assert planes == samples[0::2].tobytes() + samples[1::2].tobytes()


def test_values_of_an_enhanced_frame_use_its_own_rescale() -> None:
    image = read_dicom(dicom_bytes("eCT_Supplemental.dcm"))
    values = decode_values(encode_values(image, 1))
    np.testing.assert_array_equal(values, image.stored(1).astype(np.float64) - 1024)


@pytest.mark.parametrize("name", ["693_UNCI.dcm", "RG1_UNCI.dcm", "US1_UNCR.dcm"])
def test_png_is_lossless(name: str) -> None:
    view = read_dicom(dicom_bytes(name)).render(0)
    png = encode_png(view)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(BytesIO(png)) as decoded:
        np.testing.assert_array_equal(np.asarray(decoded), view)


def test_png_refuses_what_is_not_a_display_view() -> None:
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((4, 4), dtype=np.uint16))
