"""Features cached per item by content hash: in memory (LRU), optionally on disk.

A key is the SHA-256 of the featurizer's version and the item's bytes, so the same content
featurized by the same code is computed once, whatever the item is called, and a new feature
version never reads an old vector.
"""

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from models.types import FloatArray

_KEY = re.compile(r"[0-9a-f]{64}")


def content_key(data: bytes, version: str) -> str:
    """The cache key of `data` for a featurizer at `version` (64 hex characters)."""
    digest = hashlib.sha256(version.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(data)
    return digest.hexdigest()


def array_key(array: np.ndarray, version: str) -> str:
    """The cache key of an array: its dtype and shape count, not only its bytes."""
    header = f"{array.dtype.str}{array.shape}".encode()
    return content_key(header + np.ascontiguousarray(array).tobytes(), version)


class FeatureCache:
    """A bounded map from content key to feature vector; `directory` keeps them across restarts."""

    def __init__(self, max_items: int = 100_000, directory: Path | None = None) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be at least 1, got {max_items}")
        self.max_items = max_items
        self.directory = directory
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[str, FloatArray] = OrderedDict()
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> FloatArray | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
            return value
        if self.directory is not None:
            path = self._path(key)
            if path.exists():
                loaded: FloatArray = np.load(path, allow_pickle=False)
                self._remember(key, loaded)
                return loaded
        return None

    def put(self, key: str, value: FloatArray) -> None:
        value = np.array(value, dtype=np.float32)  # a copy: the caller's array stays writable
        value.setflags(write=False)
        self._remember(key, value)
        if self.directory is not None:
            path = self._path(key)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, value, allow_pickle=False)
            tmp.replace(path)

    def get_or_compute(self, key: str, compute: Callable[[], FloatArray]) -> FloatArray:
        value = self.get(key)
        if value is not None:
            self.hits += 1
            return value
        self.misses += 1
        value = compute()
        self.put(key, value)
        result = self.get(key)
        assert result is not None
        return result

    def _remember(self, key: str, value: FloatArray) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        if not _KEY.fullmatch(key):
            raise ValueError(f"a cache key is 64 lower-case hex characters, got {key!r}")
        return self.directory / f"{key}.npy"
