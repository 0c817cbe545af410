"""argon2id hashing: secure defaults, verification, and when a hash is due for renewal."""

import inspect

import pytest
from argon2 import Type
from argon2.profiles import RFC_9106_LOW_MEMORY

from server.auth.memory_users import MemoryUserStore
from server.auth.passwords import HASHER, hash_password, needs_rehash, verify_password
from server.auth.sqlite_users import SQLiteUserStore
from tests.server.auth.conftest import LIGHT

PASSWORD = "correct horse battery"


def test_the_default_hasher_is_rfc_9106s_argon2id_profile() -> None:
    assert HASHER.type is Type.ID
    assert HASHER.time_cost >= RFC_9106_LOW_MEMORY.time_cost
    assert HASHER.memory_cost >= RFC_9106_LOW_MEMORY.memory_cost
    assert HASHER.parallelism == RFC_9106_LOW_MEMORY.parallelism
    assert HASHER.hash_len >= 32
    assert HASHER.salt_len >= 16


def test_stores_hash_with_the_default_unless_told_otherwise() -> None:
    assert inspect.signature(MemoryUserStore).parameters["hasher"].default is HASHER
    assert inspect.signature(SQLiteUserStore.open).parameters["hasher"].default is HASHER


def test_a_default_hash_verifies_its_password_only() -> None:
    stored = hash_password(PASSWORD)

    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "!")
    assert not needs_rehash(stored)


def test_each_hash_has_its_own_salt() -> None:
    assert hash_password(PASSWORD, LIGHT) != hash_password(PASSWORD, LIGHT)


@pytest.mark.parametrize("stored", ["", "plain text", "$argon2id$v=19$m=8,t=1,p=1$bad"])
def test_a_malformed_hash_matches_nothing_and_is_due(stored: str) -> None:
    assert not verify_password(stored, PASSWORD, LIGHT)
    assert needs_rehash(stored, LIGHT)


def test_a_hash_of_other_parameters_is_due_for_rehash() -> None:
    light = hash_password(PASSWORD, LIGHT)

    assert verify_password(light, PASSWORD)
    assert needs_rehash(light)
    assert not needs_rehash(light, LIGHT)
