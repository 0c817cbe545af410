"""`annolog user ...`: add, passwd, disable, enable, signout and list, on a real SQLite file."""

import asyncio
from pathlib import Path

import pytest

from server.auth.errors import UserDisabled
from server.auth.sqlite_users import SQLiteUserStore
from server.cli import main
from tests.server.auth.conftest import LIGHT

PASSWORD = "correct horse battery"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "log.db"
    # The CLI points these at its --db; set here so that they are put back afterwards.
    monkeypatch.setenv("ANNOLOG_DATABASE", str(path))
    monkeypatch.setenv("ANNOLOG_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("ANNOLOG_PASSWORD", raising=False)
    return path


def user(db: Path, *args: str) -> int:
    return main(["--db", str(db), "user", *args])


def epoch_of(db: Path, username: str, password: str) -> int | None:
    async def look() -> int | None:
        store = await SQLiteUserStore.open(db, hasher=LIGHT)
        try:
            owner = await store.authenticate_session(username, password)
            return owner.epoch if owner else None
        finally:
            await store.close()

    return asyncio.run(look())


def test_an_admin_manages_a_user_from_the_command_line(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert user(db, "add", "alice", "--password", PASSWORD) == 0
    assert epoch_of(db, "alice", PASSWORD) == 0

    assert user(db, "passwd", "alice", "--password", "a brand new one") == 0
    assert epoch_of(db, "alice", PASSWORD) is None
    assert epoch_of(db, "alice", "a brand new one") == 1

    assert user(db, "signout", "ALICE") == 0
    assert epoch_of(db, "alice", "a brand new one") == 2

    assert user(db, "disable", "alice") == 0
    with pytest.raises(UserDisabled):
        epoch_of(db, "alice", "a brand new one")
    assert user(db, "list") == 0
    assert "alice (disabled)" in capsys.readouterr().out.splitlines()

    assert user(db, "enable", "alice") == 0
    assert epoch_of(db, "alice", "a brand new one") == 3
    capsys.readouterr()
    assert user(db, "list") == 0
    assert capsys.readouterr().out.splitlines() == ["alice"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("passwd", "bob", "--password", PASSWORD), "username: no user named 'bob'"),
        (("passwd", "alice", "--password", "short"), "password: 8 to 1024 characters"),
        (("disable", "bob"), "username: no user named 'bob'"),
        (("enable", "a b"), "username: no user named 'a b'"),
        (("signout", "bob"), "username: no user named 'bob'"),
        (("add", "alice", "--password", PASSWORD), "username: a user named 'alice'"),
    ],
)
def test_a_refused_user_command_says_why_and_fails(
    db: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    assert user(db, "add", "alice", "--password", PASSWORD) == 0
    capsys.readouterr()

    assert user(db, *args) == 1

    assert message in capsys.readouterr().err
    assert epoch_of(db, "alice", PASSWORD) == 0
