"""k-means pages: pure on digits, deterministic, every item on exactly one page."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.clustering import cluster_pages, fill_pages, kmeans, page_purity, suggest_k
from models.training import train_multiclass
from tests.models.conftest import Digits


def test_clustered_pages_of_nine_are_pure_on_digits(digits: Digits) -> None:
    pages = cluster_pages(digits.features, 9, seed=0)
    rng = np.random.default_rng(0)
    shuffled = rng.permutation(len(digits.labels)).tolist()
    random_pages = [shuffled[i : i + 9] for i in range(0, len(shuffled), 9)]
    assert page_purity(pages, digits.labels) >= 0.85
    assert page_purity(random_pages, digits.labels) < 0.4


def test_pages_on_logits_are_pure_too(digits: Digits) -> None:
    result = train_multiclass(digits.features[:200], digits.labels[:200], digits.classes)
    pool = np.arange(200, len(digits.labels))
    pages = cluster_pages(result.model.logits(digits.features[pool]), 9, seed=0)
    assert page_purity(pages, digits.labels[pool]) >= 0.85


def test_kmeans_is_deterministic_given_a_seed(digits: Digits) -> None:
    a = kmeans(digits.features[:300], 10, seed=1)
    b = kmeans(digits.features[:300], 10, seed=1)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.inertia == b.inertia


def test_kmeans_separates_obvious_blobs() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0, 10]], float)
    x = np.concatenate([c + rng.normal(size=(50, 2)) for c in centres])
    labels = kmeans(x, 3, seed=0).labels
    for block in range(3):
        assert len(set(labels[block * 50 : (block + 1) * 50])) == 1
    assert len(set(labels)) == 3


def test_more_clusters_than_distinct_rows_still_runs() -> None:
    x = np.zeros((10, 3))
    x[5:] = 1
    result = kmeans(x, 4)
    assert result.labels.shape == (10,)
    assert result.inertia == pytest.approx(0.0)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 120), st.integers(1, 12), st.integers(0, 3))
def test_every_row_is_on_exactly_one_page(n: int, page_size: int, seed: int) -> None:
    x = np.random.default_rng(seed).normal(size=(n, 4))
    pages = fill_pages(kmeans(x, suggest_k(n, page_size), seed=seed), page_size)
    assert sorted(i for page in pages for i in page) == list(range(n))
    assert all(1 <= len(page) <= page_size for page in pages)
    assert sum(len(page) < page_size for page in pages) <= 1


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="k must be between 1 and"):
        kmeans(np.zeros((3, 2)), 4)
    with pytest.raises(ValueError, match="page size"):
        fill_pages(kmeans(np.zeros((3, 2)), 1), 0)
