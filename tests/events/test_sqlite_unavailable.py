"""The SQLite store when another process holds the file's write lock for longer than the
store's busy timeout: the append and the checkpoint fail with StoreUnavailableError, nothing is
written, and the same calls succeed once the lock is released."""

import sqlite3
from pathlib import Path

import pytest

from events.errors import StoreUnavailableError
from events.sqlite_store import SQLiteStore
from tests.events.conftest import ManualClock, create_project, read_everything, tagged


async def test_a_write_lock_held_elsewhere_fails_unavailable_and_writes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "log.db"
    store = await SQLiteStore.open(path, ManualClock(), busy_timeout=0.05)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        await create_project(store)
        other.execute("BEGIN IMMEDIATE")  # another process, in the middle of its own write
        with pytest.raises(
            StoreUnavailableError, match=r"unavailable \(SQLite: database is locked"
        ):
            await store.append("item-p-a", [tagged("a")], 0)
        with pytest.raises(StoreUnavailableError, match="locked"):
            await store.save_checkpoint("workspace", 1, b"state")
        other.execute("ROLLBACK")

        [recorded] = await store.append("item-p-a", [tagged("a")], 0)
        assert (recorded.seq, recorded.version) == (2, 1)
        await store.save_checkpoint("workspace", 2, b"state")
        assert [r.event_id for r in await read_everything(store)] == ["p-created", "a"]
        assert await store.load_checkpoint("workspace") == (2, b"state")
    finally:
        other.close()
        await store.close()
