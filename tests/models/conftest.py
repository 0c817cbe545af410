"""The models tests' data: scikit-learn's digits (shipped in its wheel), featurized once."""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_limits  # comes with scikit-learn

from models.image_features import image_features_batch
from models.types import FloatArray, IntArray, UInt8Array


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread() -> Iterator[None]:
    """As the worker runs (OPENBLAS_NUM_THREADS=1): threaded BLAS is many times slower here."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@dataclass(frozen=True)
class Digits:
    images: list[UInt8Array]
    features: FloatArray
    labels: IntArray
    classes: tuple[str, ...]


def digit_images() -> tuple[list[UInt8Array], IntArray]:
    data = load_digits()
    images = [np.round(im * (255 / 16)).astype(np.uint8) for im in data.images]
    return images, data.target.astype(np.int64)


@pytest.fixture(scope="session")
def digits() -> Digits:
    images, labels = digit_images()
    classes = tuple(str(i) for i in range(10))
    return Digits(images, image_features_batch(images), labels, classes)
