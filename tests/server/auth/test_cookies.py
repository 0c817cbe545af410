"""Session cookies: round trip, tampering, expiry, attributes, and the CSRF check."""

import base64
import re

import msgspec
import pytest
from starlette.responses import Response

from events.base import SessionId
from server.auth.cookies import (
    CLOCK_SKEW,
    COOKIE_NAME,
    Session,
    SessionSigner,
    cookie_attributes,
    csrf_ok,
)
from server.auth.principal import Principal
from tests.server.auth.conftest import SECRET_KEY, ManualClock

COOKIE_SAFE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


@pytest.fixture
def signer(clock: ManualClock) -> SessionSigner:
    return SessionSigner(SECRET_KEY, max_age=3600, clock=clock)


def test_a_signed_session_verifies_to_itself(signer: SessionSigner, clock: ManualClock) -> None:
    session = signer.new_session("alice")

    value = signer.sign(session)

    assert signer.verify(value) == session
    assert session.username == "alice"
    assert session.issued_at == clock.now
    assert COOKIE_SAFE.fullmatch(value)
    assert len(value) < 200


def test_sessions_get_their_own_random_ids_and_csrf_tokens(signer: SessionSigner) -> None:
    sessions = [signer.new_session("alice") for _ in range(50)]

    assert len({s.session_id for s in sessions}) == 50
    assert len({s.csrf for s in sessions}) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{20,}", s.session_id) for s in sessions)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{40,}", s.csrf) for s in sessions)


def test_session_ids_are_valid_session_ids_of_the_log(signer: SessionSigner) -> None:
    # The queue records the session id in events; a urlsafe id may start with "-" or "_",
    # which the log's SessionId refuses (1 sign-in in 32 could not get a page).
    ids = [signer.new_session("alice").session_id for _ in range(2_000)]

    assert msgspec.convert(ids, list[SessionId]) == ids


def _flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


def _forge(session: Session, mac: str) -> str:
    payload = base64.urlsafe_b64encode(msgspec.msgpack.encode(session)).rstrip(b"=").decode()
    return f"{payload}.{mac}"


def test_a_tampered_cookie_verifies_to_nothing(signer: SessionSigner) -> None:
    session = signer.new_session("alice")
    value = signer.sign(session)
    payload, mac = value.split(".")
    admin = msgspec.structs.replace(session, username="admin")
    other = signer.sign(signer.new_session("bob"))
    tampered = [
        _flip(value, 0),
        _flip(value, len(payload) - 1),
        _flip(value, len(payload) + 1),
        _flip(value, len(value) - 1),
        value[:-1],
        value + "A",
        value + "=",
        payload + "=." + mac,
        payload,
        payload + ".",
        "." + mac,
        f"{payload}.{mac}.{mac}",
        other.split(".")[0] + "." + mac,
        _forge(admin, mac),
        value.replace("A", "é", 1),
        "",
        "x" * 5000,
    ]

    for forged in tampered:
        assert signer.verify(forged) is None, forged
    assert signer.verify(None) is None
    assert signer.verify(value) == session


def test_a_cookie_from_another_key_verifies_to_nothing(clock: ManualClock) -> None:
    ours = SessionSigner(SECRET_KEY, clock=clock)
    theirs = SessionSigner(b"another key, as long as ours", clock=clock)

    assert ours.verify(theirs.sign(theirs.new_session("alice"))) is None


def test_a_cookie_expires_after_max_age(signer: SessionSigner, clock: ManualClock) -> None:
    session = signer.new_session("alice")
    value = signer.sign(session)

    clock.now += 3600
    assert signer.verify(value) == session
    clock.now += 0.001
    assert signer.verify(value) is None


def test_a_cookie_issued_in_the_future_is_refused(
    signer: SessionSigner, clock: ManualClock
) -> None:
    slightly_ahead = signer.sign(Session("alice", "s1", issued_at=clock.now + CLOCK_SKEW, csrf="c"))
    far_ahead = signer.sign(Session("alice", "s2", issued_at=clock.now + CLOCK_SKEW + 1, csrf="c"))

    assert signer.verify(slightly_ahead) is not None
    assert signer.verify(far_ahead) is None


@pytest.mark.parametrize(
    ("key", "max_age", "field"), [(b"short key", 60, "secret_key"), (SECRET_KEY, 0, "max_age")]
)
def test_a_weak_key_or_no_max_age_is_refused(key: bytes, max_age: int, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        SessionSigner(key, max_age=max_age)


@pytest.mark.parametrize("secure", [True, False])
def test_the_cookie_is_http_only_lax_and_site_wide(signer: SessionSigner, secure: bool) -> None:
    response = Response()
    value = signer.sign(signer.new_session("alice"))

    response.set_cookie(value=value, max_age=signer.max_age, **cookie_attributes(secure))
    response.delete_cookie(**cookie_attributes(secure))

    set_cookie, cleared = response.headers.getlist("set-cookie")
    attributes = [part.strip() for part in set_cookie.split(";")]
    assert attributes[0] == f"{COOKIE_NAME}={value}"
    assert {"HttpOnly", "Path=/", "SameSite=lax", "Max-Age=3600"} <= set(attributes)
    assert ("Secure" in attributes) is secure
    assert cleared.startswith(f'{COOKIE_NAME}=""') or cleared.startswith(f"{COOKIE_NAME}=;")
    assert "Max-Age=0" in cleared


def test_csrf_needs_the_sessions_own_token(signer: SessionSigner) -> None:
    session = signer.new_session("alice")
    other = signer.new_session("alice")
    by_token = Principal(username="alice", is_admin=False, session_id="tok-1", via="token")

    assert csrf_ok(session, session.csrf)
    assert not csrf_ok(session, other.csrf)
    assert not csrf_ok(session, session.csrf[:-1])
    assert not csrf_ok(session, session.csrf + " ")
    assert not csrf_ok(session, "")
    assert not csrf_ok(session, None)
    assert not csrf_ok(session, "é" + session.csrf[1:])
    assert not csrf_ok(None, session.csrf)
    assert not csrf_ok(by_token, "")
    assert not csrf_ok(Session("alice", "s", 0.0, ""), "")
