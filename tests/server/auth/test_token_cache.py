"""A token's owner is remembered for a second; revoking it here forgets it at once."""

import asyncio
from pathlib import Path

import pytest

from server.auth import base_users
from server.auth.base_users import BaseUserStore
from server.auth.sqlite_users import SQLiteUserStore
from tests.server.auth.conftest import LIGHT, ManualClock

PASSWORD = "correct horse battery"


async def test_a_revoked_token_is_refused_at_once_though_it_was_just_used(
    users: BaseUserStore,
) -> None:
    alice = await users.add_user("alice", PASSWORD)
    token_id, secret = await users.create_token("alice", "script")
    assert await users.user_for_token(secret) == alice  # now remembered

    await users.revoke_token(token_id)

    assert await users.user_for_token(secret) is None


async def test_a_revocation_by_another_process_takes_effect_within_the_cache_time(
    db_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base_users, "CACHE_SECONDS", 0.2)
    server = await SQLiteUserStore.open(db_path, hasher=LIGHT, clock=clock)
    other = await SQLiteUserStore.open(db_path, hasher=LIGHT, clock=clock)
    try:
        alice = await server.add_user("alice", PASSWORD)
        token_id, secret = await server.create_token("alice", "script")
        assert await server.user_for_token(secret) == alice

        await other.revoke_token(token_id)
        assert await server.user_for_token(secret) == alice  # remembered a little longer
        await asyncio.sleep(0.25)

        assert await server.user_for_token(secret) is None
    finally:
        await server.close()
        await other.close()
