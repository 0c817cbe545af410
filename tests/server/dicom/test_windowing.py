"""The display tables against pydicom's apply_voi_lut and against the standard's formulas."""

import numpy as np
import pytest

from server.dicom import DicomImage, LookupTable, Window, read_dicom
from server.dicom.display import display_lut, stored_domain
from server.dicom.windowing import linear, linear_exact, sigmoid
from tests.server.dicom.files import dataset, dicom_bytes, to_bytes
from tests.server.dicom.reference import pydicom_grey

FILES_WITH_WINDOWS = [
    "693_UNCI.dcm",  # CT, signed 14 bits, rescale -1024, window 40/100
    "MR_small.dcm",  # MR, signed 16 bits
    "MR2_UNCI.dcm",  # MR, unsigned 12 bits
    "RG1_UNCI.dcm",  # CR, MONOCHROME1, unsigned 15 bits
    "RG3_UNCI.dcm",  # CR, MONOCHROME1, unsigned 10 bits
    "JPGLosslessP14SV1_1s_1f_8b.dcm",  # US, 8 bits, JPEG Lossless
]
FUNCTIONS = ["LINEAR", "LINEAR_EXACT", "SIGMOID"]


def _max_difference(ours: np.ndarray, reference: np.ndarray) -> int:
    return int(np.abs(ours.astype(np.int16) - reference.astype(np.int16)).max())


def _assert_matches(function: str, ours: np.ndarray, reference: np.ndarray) -> None:
    assert ours.dtype == np.uint8
    assert ours.shape == reference.shape
    if function == "LINEAR_EXACT":
        assert _max_difference(ours, reference) <= 1
    else:
        np.testing.assert_array_equal(ours, reference)


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("name", FILES_WITH_WINDOWS)
def test_file_windows_match_pydicom(name: str, function: str) -> None:
    ds = dataset(name)
    ds.VOILUTFunction = function
    image = read_dicom(to_bytes(ds))
    windows = image.metadata.transform.windows
    assert windows, "each of these files carries at least one window"
    stored = image.stored(0)
    np.testing.assert_array_equal(stored, ds.pixel_array)
    for index, window in enumerate(windows):
        assert window.function == function
        _assert_matches(function, image.render(0, window), pydicom_grey(ds, stored, index))


PRESETS = [
    (40, 400),
    (-600, 1500),
    (90, 150),
    (480, 2500),
    (40, 80),
    (0, 1),
    (10.5, 2),
    (-1024, 3.7),
]


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize(("center", "width"), PRESETS)
def test_ct_presets_match_pydicom(center: float, width: float, function: str) -> None:
    ds = dataset("693_UNCI.dcm")
    ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = center, width, function
    image = read_dicom(dicom_bytes("693_UNCI.dcm"))
    ours = image.render(0, Window(center=center, width=width, function=function))  # type: ignore[arg-type]
    _assert_matches(function, ours, pydicom_grey(ds, image.stored(0)))


def test_voi_lut_sequence_matches_pydicom() -> None:
    ds = dataset("vlut_04.dcm")
    image = read_dicom(dicom_bytes("vlut_04.dcm"))
    (lut,) = image.metadata.transform.voi_luts
    assert (lut.first_mapped, lut.bits, len(lut.data)) == (0, 16, 256)
    assert image.default_voi(0) == lut
    np.testing.assert_array_equal(image.render(0), pydicom_grey(ds, image.stored(0)))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_modality_lut_sequence_then_window_matches_pydicom(function: str) -> None:
    ds = dataset("mlut_18.dcm")
    image = read_dicom(dicom_bytes("mlut_18.dcm"))
    lut = image.metadata.transform.modality_lut
    assert lut is not None
    assert (lut.first_mapped, lut.bits, len(lut.data)) == (-2048, 16, 4096)
    for center, width in [(32768, 65536), (20000, 10000), (40000, 300)]:
        ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = center, width, function
        window = Window(center=center, width=width, function=function)  # type: ignore[arg-type]
        _assert_matches(function, image.render(0, window), pydicom_grey(ds, image.stored(0)))


def test_monochrome1_is_the_inverse_of_monochrome2() -> None:
    ds = dataset("RG1_UNCI.dcm")
    as_mono1 = read_dicom(to_bytes(ds))
    ds.PhotometricInterpretation = "MONOCHROME2"
    as_mono2 = read_dicom(to_bytes(ds))
    window = as_mono1.metadata.transform.windows[0]
    np.testing.assert_array_equal(as_mono1.render(0, window), 255 - as_mono2.render(0, window))
    stored = as_mono1.stored(0)
    # Under the automatic window the lowest stored value is white in MONOCHROME1.
    lowest = np.unravel_index(np.argmin(stored), stored.shape)
    assert as_mono1.render(0, as_mono1.auto_window(0))[lowest] == 255
    assert as_mono2.render(0, as_mono2.auto_window(0))[lowest] == 0


def test_linear_follows_the_standard_at_its_edges() -> None:
    # PS3.3 C.11.2.1.2.1 with c = 40, w = 400: x <= -160 -> 0, x > 239 -> 255.
    x = np.array([-1000, -160, -159.5, 39.5, 239, 239.5, 1000], dtype=np.float64)
    y = linear(x, 40, 400)
    assert y[0] == y[1] == 0
    assert y[5] == y[6] == 255
    assert y[3] == pytest.approx(127.5)
    assert y[4] == pytest.approx(255)
    assert 0 < y[2] < 1


def test_linear_with_width_one_is_a_threshold() -> None:
    x = np.array([-1, 0, 0.5, 1, 2], dtype=np.float64)
    np.testing.assert_array_equal(linear(x, 1, 1), [0, 0, 0, 255, 255])


def test_linear_exact_and_sigmoid_follow_the_standard() -> None:
    x = np.array([-200.0, -160.0, 40.0, 240.0, 240.5], dtype=np.float64)
    np.testing.assert_allclose(linear_exact(x, 40, 400), [0, 0, 127.5, 255, 255])
    s = sigmoid(np.array([40.0, 240.0, -1e6]), 40, 400)
    np.testing.assert_allclose(s, [127.5, 255 / (1 + np.exp(-2)), 0])


@pytest.mark.parametrize("width", [0.0, -5.0, 0.5])
def test_invalid_widths_are_refused(width: float) -> None:
    x = np.zeros(3)
    with pytest.raises(ValueError, match="LINEAR"):
        linear(x, 0, width)
    if width <= 0:
        with pytest.raises(ValueError, match="SIGMOID"):
            sigmoid(x, 0, width)


def test_the_table_covers_every_16_bit_value_once() -> None:
    domain = stored_domain(np.dtype(np.int16))
    assert len(domain) == 65536
    assert len(np.unique(domain)) == 65536
    # Indexed by the unsigned bit pattern: entry 0xFFFF is the signed value -1.
    assert domain[0xFFFF] == -1
    image = read_dicom(dicom_bytes("693_UNCI.dcm"))
    lut = display_lut(
        np.dtype(np.int16), image.metadata.transform, Window(center=0, width=2), False
    )
    assert lut.shape == (65536,)
    assert lut.dtype == np.uint8


def test_missing_window_defaults_to_min_max_without_padding() -> None:
    ds = dataset("CT_small.dcm")  # Pixel Padding Value -2000, no window
    pixels = ds.pixel_array.copy()
    pixels[:10, :] = -2000
    ds.PixelData = pixels.tobytes()
    image = read_dicom(to_bytes(ds))
    assert image.metadata.pixel_padding_value == -2000
    assert image.metadata.transform.windows == ()
    window = image.auto_window(0)
    inside = pixels[10:, :].astype(np.float64) - 1024
    assert window.center == pytest.approx((inside.min() + inside.max()) / 2)
    assert window.width == pytest.approx(inside.max() - inside.min())
    assert window.explanation == "AUTO"
    grey = image.render(0)
    assert grey[10:, :].min() == 0
    assert grey[10:, :].max() == 255


def test_padding_range_limit_is_excluded_too() -> None:
    ds = dataset("CT_small.dcm")
    pixels = ds.pixel_array.copy()
    pixels[:5, :] = -2000
    pixels[5:10, :] = -1500
    ds.PixelData = pixels.tobytes()
    ds.add_new("PixelPaddingRangeLimit", "SS", -1500)
    image = read_dicom(to_bytes(ds))
    window = image.auto_window(0)
    assert window.center - window.width / 2 == pytest.approx(pixels[10:, :].min() - 1024)


def test_explicit_voi_overrides_the_file() -> None:
    image: DicomImage = read_dicom(dicom_bytes("vlut_04.dcm"))
    flat = LookupTable(first_mapped=0, bits=8, data=tuple([128] * 256))
    assert (image.render(0, flat) == 128).all()
