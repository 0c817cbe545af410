"""MediaStore: content-addressed, atomic, idempotent, and deaf to path tricks."""

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from server.media import InvalidHashError, MediaNotFoundError, MediaStore, check_hash


def test_put_stores_under_the_sha256_and_reads_back(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    data = b"\x89PNG not really"
    digest = store.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.path(digest) == tmp_path / digest[:2] / digest
    assert store.exists(digest)
    assert store.read(digest) == data


def test_put_twice_is_a_no_op_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    first = store.put(b"same")
    mtime = store.path(first).stat().st_mtime_ns
    assert store.put(b"same") == first
    assert store.path(first).stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [first]


def test_concurrent_puts_of_the_same_and_different_bytes(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    blobs = [bytes([i % 7]) * 10_000 for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        hashes = list(pool.map(store.put, blobs))
    assert len(set(hashes)) == 7
    for digest, data in zip(hashes, blobs, strict=True):
        assert store.read(digest) == data
    assert not [p for p in tmp_path.rglob(".tmp-*")]


@pytest.mark.parametrize(
    "bad",
    [
        "../" + "a" * 61,
        "A" * 64,
        "a" * 63,
        "a" * 65,
        "a" * 64 + "\n",
        "/etc/passwd",
        "",
        "g" * 64,
    ],
)
def test_a_malformed_hash_is_refused_before_touching_the_disk(tmp_path: Path, bad: str) -> None:
    store = MediaStore(tmp_path)
    for call in (store.path, store.exists, store.read, check_hash):
        with pytest.raises(InvalidHashError) as caught:
            call(bad)
        assert caught.value.status == 400
    assert list(tmp_path.iterdir()) == []


def test_reading_a_missing_blob_names_the_hash(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    missing = "0" * 64
    assert not store.exists(missing)
    with pytest.raises(MediaNotFoundError, match=missing) as caught:
        store.read(missing)
    assert caught.value.status == 404
