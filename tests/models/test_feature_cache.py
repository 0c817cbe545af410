"""The feature cache: keyed by content and featurizer version, bounded, optionally on disk."""

from pathlib import Path

import numpy as np
import pytest

from models.feature_cache import FeatureCache, array_key, content_key
from models.image_features import FEATURE_VERSION, image_features


def test_keys_depend_on_content_and_version_only() -> None:
    assert content_key(b"abc", "v1") == content_key(b"abc", "v1")
    assert content_key(b"abc", "v1") != content_key(b"abc", "v2")
    assert content_key(b"abc", "v1") != content_key(b"abd", "v1")
    a = np.zeros((2, 3), np.uint8)
    assert array_key(a, "v") != array_key(a.reshape(3, 2), "v")


def test_computes_once_per_content() -> None:
    cache = FeatureCache()
    image = np.full((9, 9), 7, np.uint8)
    calls = []

    def compute() -> np.ndarray:
        calls.append(1)
        return image_features(image)

    key = array_key(image, FEATURE_VERSION)
    first = cache.get_or_compute(key, compute)
    second = cache.get_or_compute(array_key(image.copy(), FEATURE_VERSION), compute)
    assert len(calls) == 1
    assert (cache.hits, cache.misses) == (1, 1)
    np.testing.assert_array_equal(first, second)
    with pytest.raises(ValueError, match="read-only"):
        first[0] = 1.0


def test_is_bounded_least_recently_used_first() -> None:
    cache = FeatureCache(max_items=2)
    for name in ("a", "b"):
        cache.put(content_key(name.encode(), "v"), np.ones(2, np.float32))
    cache.get(content_key(b"a", "v"))
    cache.put(content_key(b"c", "v"), np.ones(2, np.float32))
    assert len(cache) == 2
    assert cache.get(content_key(b"b", "v")) is None
    assert cache.get(content_key(b"a", "v")) is not None


def test_a_directory_keeps_vectors_across_instances(tmp_path: Path) -> None:
    key = content_key(b"x", "v")
    FeatureCache(directory=tmp_path).put(key, np.arange(3, dtype=np.float32))
    again = FeatureCache(directory=tmp_path).get(key)
    assert again is not None
    np.testing.assert_array_equal(again, [0, 1, 2])
    with pytest.raises(ValueError, match="64 lower-case hex"):
        FeatureCache(directory=tmp_path).get("../../etc/passwd")
