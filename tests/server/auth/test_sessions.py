"""Revocable sessions: a cookie names its user only at the user's current session epoch.

Signing out everywhere, a new password and disabling raise the epoch, on every UserStore.
"""

import asyncio
import base64
from pathlib import Path

import msgspec
import pytest
from argon2 import PasswordHasher

from server.auth import base_users
from server.auth.base_users import BaseUserStore
from server.auth.cookies import COOKIE_NAME, SessionSigner
from server.auth.errors import SessionRevoked, UnknownUser, UserDisabled
from server.auth.principal import principal_from
from server.auth.sqlite_users import SQLiteUserStore
from tests.server.auth.conftest import LIGHT, OPENERS, SECRET_KEY, ManualClock

PASSWORD = "correct horse battery"


async def signed_in_cookie(users: BaseUserStore, signer: SessionSigner, name: str) -> str:
    owner = await users.authenticate_session(name, PASSWORD)
    assert owner is not None
    return signer.sign(signer.new_session(owner.user.username, epoch=owner.epoch))


async def cookie_user(users: BaseUserStore, signer: SessionSigner, cookie: str) -> str | None:
    principal = await principal_from({}, {COOKIE_NAME: cookie}, users, signer)
    return principal.username if principal else None


@pytest.fixture
def signer(clock: ManualClock) -> SessionSigner:
    return SessionSigner(SECRET_KEY, max_age=3600, clock=clock)


async def test_signing_out_everywhere_ends_every_earlier_cookie_and_no_later_one(
    users: BaseUserStore, signer: SessionSigner
) -> None:
    await users.add_user("alice", PASSWORD)
    await users.add_user("bob", PASSWORD)
    laptop = await signed_in_cookie(users, signer, "alice")
    phone = await signed_in_cookie(users, signer, "alice")
    bobs = await signed_in_cookie(users, signer, "bob")
    assert await cookie_user(users, signer, laptop) == "alice"  # now remembered

    await users.revoke_sessions("ALICE")

    for cookie in (laptop, phone):
        with pytest.raises(SessionRevoked) as revoked:
            await cookie_user(users, signer, cookie)
        assert revoked.value.field == "session"
        assert "'alice'" in revoked.value.message
        assert "sign in again" in revoked.value.message
    assert await cookie_user(users, signer, bobs) == "bob"
    again = await signed_in_cookie(users, signer, "alice")
    assert await cookie_user(users, signer, again) == "alice"


async def test_a_new_password_ends_the_sessions_but_a_rehash_does_not(
    users: BaseUserStore, signer: SessionSigner
) -> None:
    await users.add_user("alice", PASSWORD)
    before = await signed_in_cookie(users, signer, "alice")

    await users.set_password("alice", "a brand new one")

    with pytest.raises(SessionRevoked):
        await cookie_user(users, signer, before)
    owner = await users.authenticate_session("alice", "a brand new one")
    assert owner is not None
    assert owner.epoch == 1


async def test_a_rehash_at_sign_in_keeps_sessions_and_never_undoes_a_new_password(
    db_path: Path, signer: SessionSigner
) -> None:
    store = await SQLiteUserStore.open(db_path, hasher=LIGHT)
    await store.add_user("alice", PASSWORD)
    cookie = await signed_in_cookie(store, signer, "alice")
    await store.close()
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    store = await SQLiteUserStore.open(db_path, hasher=stronger)
    try:
        assert await store.authenticate("alice", PASSWORD) is not None  # rehashed
        assert await cookie_user(store, signer, cookie) == "alice"

        # A sign-in that read the old hash and rehashes after a password change loses.
        account = await store._account("alice")
        assert account is not None
        await store.set_password("alice", "a brand new one")
        await store._rehash("alice", account.password_hash, account.password_hash + "x")
        assert await store.authenticate("alice", "a brand new one") is not None
    finally:
        await store.close()


async def test_a_disabled_user_cannot_sign_in_or_use_a_cookie_or_token(
    users: BaseUserStore, signer: SessionSigner
) -> None:
    await users.add_user("alice", PASSWORD)
    cookie = await signed_in_cookie(users, signer, "alice")
    _, secret = await users.create_token("alice", "script")
    assert await users.user_for_token(secret) is not None  # now remembered

    disabled = await users.set_disabled("Alice", True)

    assert disabled.disabled
    assert (await users.get("alice")) == disabled
    assert await users.authenticate("alice", "wrong password") is None
    with pytest.raises(UserDisabled) as refused:
        await users.authenticate("alice", PASSWORD)
    assert refused.value.field == "username"
    assert "disabled" in refused.value.message
    with pytest.raises(SessionRevoked):
        await cookie_user(users, signer, cookie)
    with pytest.raises(UserDisabled):
        await users.user_for_token(secret)
    assert [u.disabled for u in await users.list_users()] == [True]


async def test_an_enabled_user_signs_in_again_but_old_cookies_stay_ended(
    users: BaseUserStore, signer: SessionSigner
) -> None:
    await users.add_user("alice", PASSWORD)
    old = await signed_in_cookie(users, signer, "alice")
    _, secret = await users.create_token("alice", "script")
    await users.set_disabled("alice", True)

    enabled = await users.set_disabled("alice", False)

    assert not enabled.disabled
    new = await signed_in_cookie(users, signer, "alice")
    assert await cookie_user(users, signer, new) == "alice"
    assert await users.user_for_token(secret) == enabled
    with pytest.raises(SessionRevoked):
        await cookie_user(users, signer, old)


async def test_revoking_or_disabling_no_one_names_the_field(users: BaseUserStore) -> None:
    for call in (
        users.revoke_sessions("bob"),
        users.set_disabled("bob", True),
        users.revoke_sessions("not a name"),
    ):
        with pytest.raises(UnknownUser) as unknown:
            await call
        assert unknown.value.field == "username"


async def test_a_cookie_made_before_epochs_names_its_user_until_revoked(
    users: BaseUserStore, signer: SessionSigner
) -> None:
    await users.add_user("alice", PASSWORD)
    # The earlier format: the Session array without its last field, the epoch.
    session = signer.new_session("alice")
    fields = [session.username, session.session_id, session.issued_at, session.csrf]
    payload = base64.urlsafe_b64encode(msgspec.msgpack.encode(fields)).rstrip(b"=").decode()
    old = f"{payload}.{signer._mac(payload)}"
    assert await cookie_user(users, signer, old) == "alice"

    await users.revoke_sessions("alice")

    with pytest.raises(SessionRevoked):
        await cookie_user(users, signer, old)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_another_process_revokes_within_the_cache_time_and_signs_in_at_once(
    backend: str,
    db_path: Path,
    clock: ManualClock,
    signer: SessionSigner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(base_users, "CACHE_SECONDS", 0.2)
    server = await OPENERS[backend](db_path, clock)
    other = await OPENERS[backend](db_path, clock)
    try:
        await server.add_user("alice", PASSWORD)
        cookie = await signed_in_cookie(server, signer, "alice")
        assert await cookie_user(server, signer, cookie) == "alice"  # now remembered

        await other.revoke_sessions("alice")
        fresh = await signed_in_cookie(other, signer, "alice")

        # The fresh cookie's epoch differs from the remembered one: read anew, accepted.
        assert await cookie_user(server, signer, fresh) == "alice"
        with pytest.raises(SessionRevoked):
            await cookie_user(server, signer, cookie)
        await other.set_disabled("alice", True)
        assert await cookie_user(server, signer, fresh) == "alice"  # remembered a little longer
        await asyncio.sleep(0.25)
        with pytest.raises(SessionRevoked):
            await cookie_user(server, signer, fresh)
    finally:
        await server.close()
        await other.close()
