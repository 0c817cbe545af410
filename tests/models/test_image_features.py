"""Image features: one fixed-length float32 vector for any size, grey, colour or DICOM."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from models.errors import FeatureError
from models.image_features import (
    FEATURE_VERSION,
    IMAGE_FEATURES,
    THUMB,
    area_resize,
    image_features,
    image_features_batch,
)


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.uint8,
        st.one_of(
            st.tuples(st.integers(1, 300), st.integers(1, 300)),
            st.tuples(st.integers(1, 60), st.integers(1, 60), st.sampled_from([1, 3, 4])),
        ),
    )
)
def test_any_image_gives_a_finite_vector_of_fixed_length(image: np.ndarray) -> None:
    v = image_features(image)
    assert v.shape == (IMAGE_FEATURES,)
    assert v.dtype == np.float32
    assert np.all(np.isfinite(v))


def test_grey_and_grey_as_rgb_agree() -> None:
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (40, 50), dtype=np.uint8)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    np.testing.assert_allclose(image_features(grey), image_features(rgb), atol=1e-6)


def test_the_thumbnail_comes_first_and_is_the_scaled_grey_image() -> None:
    image = np.zeros((64, 64), dtype=np.uint8)
    image[:, 32:] = 255
    thumb = image_features(image)[: THUMB * THUMB].reshape(THUMB, THUMB)
    assert np.all(thumb[:, : THUMB // 2] == 0)
    assert np.allclose(thumb[:, THUMB // 2 :], 1.0)


def test_colour_changes_the_colour_histograms_only_where_grey_is_equal() -> None:
    red = np.zeros((10, 10, 3), np.uint8)
    red[..., 0] = 200
    blue = np.zeros((10, 10, 3), np.uint8)
    blue[..., 2] = 200
    assert not np.allclose(image_features(red), image_features(blue))


def test_area_resize_averages_when_shrinking_and_keeps_constants() -> None:
    a = np.arange(16, dtype=np.float64).reshape(4, 4)
    np.testing.assert_allclose(area_resize(a, 2, 2), [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_allclose(area_resize(np.full((3, 5), 7.0), 11, 2), np.full((11, 2), 7.0))


def test_a_large_image_is_featurized_quickly() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (1024, 1024, 3), dtype=np.uint8)
    assert image_features_batch([image, image]).shape == (2, IMAGE_FEATURES)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((4, 4), np.float32), "uint8"),
        (np.zeros((4, 4, 2), np.uint8), r"\(H, W\) grey or \(H, W, 3\|4\)"),
        (np.zeros((0, 4), np.uint8), "empty"),
        (np.zeros((2, 2, 2, 2), np.uint8), "shape"),
    ],
)
def test_bad_images_are_refused(image: np.ndarray, message: str) -> None:
    with pytest.raises(FeatureError, match=message):
        image_features(image)


def test_the_version_names_the_length() -> None:
    assert FEATURE_VERSION.endswith(str(IMAGE_FEATURES))


@pytest.mark.parametrize("shape", [(1, 5000), (5000, 1, 3), (257, 129), (3000, 2000, 4)])
def test_extreme_and_large_shapes(shape: tuple[int, ...]) -> None:
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    v = image_features(image)
    assert v.shape == (IMAGE_FEATURES,)
    assert np.all(np.isfinite(v))
