"""Compressed transfer syntaxes decode to the same stored values as their uncompressed twins."""

import numpy as np
import pytest

from server.dicom import read_dicom
from tests.server.dicom.files import dicom_bytes

TWINS = [
    ("MR_small.dcm", "MR_small_RLE.dcm"),
    ("MR_small.dcm", "MR_small_jpeg_ls_lossless.dcm"),
    ("MR_small.dcm", "MR_small_jp2klossless.dcm"),
    ("MR_small.dcm", "MR_small_bigendian.dcm"),
    ("MR_small.dcm", "MR_small_implicit.dcm"),
    ("emri_small.dcm", "emri_small_RLE.dcm"),
    ("emri_small.dcm", "emri_small_jpeg_ls_lossless.dcm"),
    ("emri_small.dcm", "emri_small_jpeg_2k_lossless.dcm"),
    ("emri_small.dcm", "emri_small_big_endian.dcm"),
    ("MR2_UNCR.dcm", "MR2_J2KR.dcm"),
    ("US1_UNCR.dcm", "US1_J2KR.dcm"),
    ("RG3_UNCR.dcm", "RG3_J2KR.dcm"),
]


@pytest.mark.parametrize(("plain", "compressed"), TWINS)
def test_lossless_syntaxes_decode_to_the_same_values(plain: str, compressed: str) -> None:
    expected = read_dicom(dicom_bytes(plain))
    image = read_dicom(dicom_bytes(compressed))
    assert image.metadata.frames == expected.metadata.frames
    for frame in range(image.metadata.frames):
        stored = image.stored(frame)
        assert stored.dtype.isnative
        np.testing.assert_array_equal(stored, expected.stored(frame))
        np.testing.assert_array_equal(image.render(frame), expected.render(frame))


@pytest.mark.parametrize(
    "name",
    [
        "SC_rgb_jpeg_dcmtk.dcm",  # JPEG baseline, YBR_FULL
        "JPGExtended.dcm",  # JPEG extended 12-bit
        "693_J2KI.dcm",  # lossy JPEG 2000 CT
        "JPEGLSNearLossless_16.dcm",
    ],
)
def test_lossy_syntaxes_open(name: str) -> None:
    image = read_dicom(dicom_bytes(name))
    view = image.render(0)
    assert view.dtype == np.uint8
    assert view.shape[:2] == (image.metadata.rows, image.metadata.columns)


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("US1_UNCR.dcm", (480, 640, 3)),
        ("OBXXXX1A.dcm", (600, 800, 3)),  # PALETTE COLOR
        ("OBXXXX1A_expb.dcm", (600, 800, 3)),  # 8-bit values in 16-bit palette entries
        ("SC_rgb_16bit.dcm", (100, 100, 3)),
    ],
)
def test_colour_images_render_as_rgb(name: str, shape: tuple[int, ...]) -> None:
    view = read_dicom(dicom_bytes(name)).render(0)
    assert view.shape == shape
    assert view.dtype == np.uint8
    assert view.max() > 0


def test_big_and_little_endian_palettes_look_alike() -> None:
    little = read_dicom(dicom_bytes("OBXXXX1A.dcm")).render(0).astype(np.int16)
    big = read_dicom(dicom_bytes("OBXXXX1A_expb.dcm")).render(0).astype(np.int16)
    assert np.abs(little - big).max() <= 1


def test_32_bit_stored_values_render_without_a_table() -> None:
    image = read_dicom(dicom_bytes("rtdose.dcm"))
    assert image.metadata.bits_allocated == 32
    view = image.render(3)
    assert (view.min(), view.max()) == (0, 255)
