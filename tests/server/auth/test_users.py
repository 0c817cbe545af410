"""The UserStore contract, run on the memory and the SQLite store alike."""

import asyncio
import re
from typing import Literal

import pytest
from argon2 import PasswordHasher

from server.auth.errors import (
    DuplicateUser,
    InvalidInput,
    StoreClosed,
    UnknownToken,
    UnknownUser,
)
from server.auth.memory_users import MemoryUserStore
from server.auth.users import TokenInfo, User, UserStore, token_id_of
from tests.server.auth.conftest import ManualClock

PASSWORD = "correct horse battery"
SECRET_SHAPE = re.compile(r"al_([0-9a-f]{16})_[A-Za-z0-9_-]{43}")


async def test_a_new_user_is_stored_as_given(users: UserStore, clock: ManualClock) -> None:
    user = await users.add_user("alice", PASSWORD, display_name=" Alice A. ", is_admin=True)

    assert user == User(
        username="alice", display_name="Alice A.", is_admin=True, created_at=clock.now
    )
    assert await users.get("alice") == user
    assert await users.get("bob") is None


async def test_usernames_are_found_in_any_case_and_keep_their_spelling(users: UserStore) -> None:
    added = await users.add_user("Alice.B", PASSWORD)

    assert await users.get("alice.b") == added
    assert await users.authenticate("ALICE.B", PASSWORD) == added


@pytest.mark.parametrize("taken", ["alice", "ALICE", "Alice"])
async def test_a_taken_username_is_refused_in_any_case(users: UserStore, taken: str) -> None:
    await users.add_user("alice", PASSWORD)

    with pytest.raises(DuplicateUser) as caught:
        await users.add_user(taken, "another password")

    assert caught.value.field == "username"
    assert taken in caught.value.message
    assert await users.authenticate("alice", PASSWORD) is not None


async def test_racing_adds_of_one_username_make_one_user(users: UserStore) -> None:
    results = await asyncio.gather(
        users.add_user("alice", PASSWORD),
        users.add_user("ALICE", PASSWORD),
        return_exceptions=True,
    )

    assert sorted(type(r).__name__ for r in results) == ["DuplicateUser", "User"]
    assert len(await users.list_users()) == 1


@pytest.mark.parametrize(
    "username", ["", "-alice", ".alice", "al ice", "alice\n", "ålice", "a/b", "x" * 65]
)
async def test_a_malformed_username_is_refused(users: UserStore, username: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await users.add_user(username, PASSWORD)

    assert caught.value.field == "username"
    assert caught.value.message.startswith("username: ")
    assert await users.list_users() == []


@pytest.mark.parametrize("username", ["a", "7", "x" * 64, "a.b@c+d-e_f", "Z_"])
async def test_a_well_formed_username_is_taken(users: UserStore, username: str) -> None:
    assert (await users.add_user(username, PASSWORD)).username == username


@pytest.mark.parametrize("password", ["", "seven77", "x" * 1025])
async def test_a_password_of_bad_length_is_refused(users: UserStore, password: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await users.add_user("alice", password)

    assert caught.value.field == "password"
    assert "8 to 1024" in caught.value.message


@pytest.mark.parametrize("password", ["eight888", "ünïcødé!", "x" * 1024])
async def test_passwords_of_8_to_1024_characters_work(users: UserStore, password: str) -> None:
    await users.add_user("alice", password)

    assert await users.authenticate("alice", password) is not None


@pytest.mark.parametrize("display_name", ["x" * 101, "two\nlines", "tab\there"])
async def test_a_bad_display_name_is_refused(users: UserStore, display_name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await users.add_user("alice", PASSWORD, display_name=display_name)

    assert caught.value.field == "display_name"


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("alice", "wrong password"),
        ("alice", PASSWORD.upper()),
        ("alice", PASSWORD + " "),
        ("bob", PASSWORD),
        ("", PASSWORD),
        ("alice", ""),
        ("alice", "x" * 5000),
    ],
)
async def test_wrong_credentials_authenticate_no_one(
    users: UserStore, username: str, password: str
) -> None:
    await users.add_user("alice", PASSWORD)

    assert await users.authenticate(username, password) is None


async def test_the_right_password_authenticates(users: UserStore) -> None:
    alice = await users.add_user("alice", PASSWORD)
    await users.add_user("bob", "bob's password")

    assert await users.authenticate("alice", PASSWORD) == alice


class CountingHasher(PasswordHasher):
    """A light hasher that counts the verifications it makes."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified += 1
        return super().verify(hash, password)


async def test_an_unknown_user_costs_a_verification_like_a_known_one() -> None:
    hasher = CountingHasher()
    store = MemoryUserStore(hasher)
    await store.add_user("alice", PASSWORD)

    assert await store.authenticate("mallory", PASSWORD) is None
    assert hasher.verified == 1
    assert await store.authenticate("alice", "wrong password") is None
    assert hasher.verified == 2


async def test_a_new_password_replaces_the_old(users: UserStore) -> None:
    await users.add_user("alice", PASSWORD)

    await users.set_password("ALICE", "a brand new one")

    assert await users.authenticate("alice", PASSWORD) is None
    assert await users.authenticate("alice", "a brand new one") is not None


async def test_a_password_for_no_one_or_too_short_is_refused(users: UserStore) -> None:
    await users.add_user("alice", PASSWORD)

    with pytest.raises(UnknownUser) as unknown:
        await users.set_password("bob", PASSWORD)
    with pytest.raises(InvalidInput) as short:
        await users.set_password("alice", "short")

    assert (unknown.value.field, short.value.field) == ("username", "password")
    assert await users.authenticate("alice", PASSWORD) is not None


async def test_users_are_listed_by_username(users: UserStore) -> None:
    for name in ["carol", "Bob", "alice"]:
        await users.add_user(name, PASSWORD)

    assert [u.username for u in await users.list_users()] == ["alice", "Bob", "carol"]


async def test_a_token_authenticates_its_owner_until_revoked(
    users: UserStore, clock: ManualClock
) -> None:
    alice = await users.add_user("alice", PASSWORD)

    token_id, secret = await users.create_token("Alice", "  labelling script ")

    shape = SECRET_SHAPE.fullmatch(secret)
    assert shape is not None
    assert shape.group(1) == token_id == token_id_of(secret)
    assert await users.user_for_token(secret) == alice
    created = TokenInfo(
        token_id=token_id, username="alice", label="labelling script", created_at=clock.now
    )
    assert await users.list_tokens("alice") == [created]

    clock.now += 60
    await users.revoke_token(token_id)
    clock.now += 60
    await users.revoke_token(token_id)

    assert await users.user_for_token(secret) is None
    revoked = TokenInfo(
        token_id=token_id,
        username="alice",
        label="labelling script",
        created_at=created.created_at,
        revoked_at=created.created_at + 60,
    )
    assert await users.list_tokens("alice") == [revoked]


async def test_tokens_are_separate(users: UserStore, clock: ManualClock) -> None:
    alice = await users.add_user("alice", PASSWORD)
    bob = await users.add_user("bob", PASSWORD)
    first_id, first = await users.create_token("alice", "one")
    clock.now += 1
    second_id, second = await users.create_token("alice", "two")
    _, bobs = await users.create_token("bob", "bob's")

    await users.revoke_token(first_id)

    assert first_id != second_id
    assert await users.user_for_token(first) is None
    assert await users.user_for_token(second) == alice
    assert await users.user_for_token(bobs) == bob
    assert [t.label for t in await users.list_tokens("alice")] == ["one", "two"]
    assert [t.label for t in await users.list_tokens("bob")] == ["bob's"]


async def test_a_forged_or_garbled_token_authenticates_no_one(users: UserStore) -> None:
    await users.add_user("alice", PASSWORD)
    token_id, secret = await users.create_token("alice", "script")
    last = "A" if secret[-1] != "A" else "B"
    forged = [
        secret[:-1] + last,
        secret + "x",
        secret[:-1],
        f"al_{token_id}_",
        f"al_{token_id}",
        "al_" + "0" * 16 + secret[19:],
        secret.replace("al_", "AL_", 1),
        "",
        "Bearer " + secret,
        "x" * 10_000,
        "al_\x00_\x00",
    ]

    for garbage in forged:
        assert await users.user_for_token(garbage) is None, garbage
    assert await users.user_for_token(secret) is not None


async def test_token_calls_name_what_is_wrong(users: UserStore) -> None:
    await users.add_user("alice", PASSWORD)

    with pytest.raises(UnknownUser):
        await users.create_token("bob", "script")
    with pytest.raises(InvalidInput) as label:
        await users.create_token("alice", "   ")
    with pytest.raises(InvalidInput):
        await users.create_token("alice", "x" * 101)
    with pytest.raises(UnknownToken) as token:
        await users.revoke_token("0123456789abcdef")
    with pytest.raises(UnknownToken):
        await users.revoke_token("not an id")
    with pytest.raises(UnknownUser):
        await users.list_tokens("bob")

    assert (label.value.field, token.value.field) == ("label", "token_id")
    assert await users.list_tokens("alice") == []


async def test_a_closed_store_says_so(users: UserStore) -> None:
    await users.add_user("alice", PASSWORD)
    await users.close()
    await users.close()

    with pytest.raises(StoreClosed):
        await users.get("alice")
    with pytest.raises(StoreClosed):
        await users.authenticate("alice", PASSWORD)


def test_a_token_id_is_read_only_from_the_token_shape() -> None:
    assert token_id_of("al_0123456789abcdef_rest_with_underscores") == "0123456789abcdef"
    assert token_id_of("al_0123456789ABCDEF_rest") is None
    assert token_id_of("xx_0123456789abcdef_rest") is None
    assert token_id_of("al_0123456789abcde_rest") is None
