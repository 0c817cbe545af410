"""Signed session cookies, their attributes, and the CSRF check.

A cookie value is `<payload>.<mac>`, both base64url without padding: the payload is the Session
as a msgpack array, the mac an HMAC-SHA256 of the payload's text under a key derived from the
server's secret. The server keeps no session table: a cookie is good while its mac matches, it
is younger than max_age and it carries its user's current session epoch (the user store checks
that). Signing out clears one cookie; raising the epoch (signing out everywhere, a new
password, disabling the user) recalls every cookie issued before, copies included.
The CSRF token travels in the signed cookie and must come back in the CSRF_HEADER of every
state-changing request; the client reads it from the sign-in answer, not from the cookie.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Literal, Protocol, TypedDict

import msgspec

COOKIE_NAME = "annolog_session"
COOKIE_PATH = "/"
COOKIE_HTTPONLY = True
COOKIE_SAMESITE: Literal["lax"] = "lax"
CSRF_HEADER = "x-csrf-token"
DEFAULT_MAX_AGE = 14 * 24 * 3600
# Issued-at stamps this far ahead are refused: a clock step back is fine, a forged future is not.
CLOCK_SKEW = 60.0
# Browsers keep about 4 KiB per cookie; anything longer is not ours and is not decoded.
MAX_COOKIE = 4096
MIN_SECRET_KEY = 16
# The key is derived, so the server's secret can sign other things without cross-use.
KEY_PURPOSE = b"annolog session cookie v1"


class Session(msgspec.Struct, frozen=True, array_like=True):
    """What a session cookie says: who, which session, since when, its CSRF token and epoch."""

    username: str
    session_id: str
    issued_at: float
    csrf: str
    # Last, with a default: cookies made before epochs existed decode as epoch 0.
    epoch: int = 0


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(Session).decode


class CookieAttributes(TypedDict):
    """Keywords of Starlette's `set_cookie` (add value, max_age) and `delete_cookie`."""

    key: str
    path: str
    secure: bool
    httponly: bool
    samesite: Literal["lax", "strict", "none"]


def cookie_attributes(secure: bool) -> CookieAttributes:
    """The session cookie's attributes; `secure` when the server is reached over HTTPS."""
    return CookieAttributes(
        key=COOKIE_NAME,
        path=COOKIE_PATH,
        secure=secure,
        httponly=COOKIE_HTTPONLY,
        samesite=COOKIE_SAMESITE,
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Makes, signs and verifies session cookies under one secret key."""

    def __init__(
        self,
        secret_key: bytes,
        *,
        max_age: int = DEFAULT_MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(secret_key) < MIN_SECRET_KEY:
            raise ValueError(f"secret_key: at least {MIN_SECRET_KEY} bytes")
        if max_age <= 0:
            raise ValueError("max_age: must be positive")
        self._key = hmac.new(secret_key, KEY_PURPOSE, hashlib.sha256).digest()
        self.max_age = max_age
        self._clock = clock

    def new_session(self, username: str, *, epoch: int = 0) -> Session:
        """A fresh session for a user who has just signed in, at their current session epoch."""
        return Session(
            username=username,
            # Hex, not urlsafe base64: the log's SessionId must start with a letter or digit,
            # and a urlsafe id starts with '-' or '_' one time in 32.
            session_id=secrets.token_hex(16),
            issued_at=self._clock(),
            csrf=secrets.token_urlsafe(32),
            epoch=epoch,
        )

    def continued(self, username: str, session_id: str, csrf: str, *, epoch: int) -> Session:
        """The same session (id and CSRF token) under a new epoch, e.g. after a new password."""
        return Session(
            username=username,
            session_id=session_id,
            issued_at=self._clock(),
            csrf=csrf,
            epoch=epoch,
        )

    def sign(self, session: Session) -> str:
        """The cookie value that carries this session."""
        payload = _b64(_encode(session))
        return f"{payload}.{self._mac(payload)}"

    def verify(self, value: str | None) -> Session | None:
        """The session in a cookie value, or None if it is missing, tampered with or expired."""
        if not value or len(value) > MAX_COOKIE or not value.isascii():
            return None
        payload, dot, mac = value.partition(".")
        # The mac covers the text, not the decoded bytes, so no other spelling of it passes.
        if not dot or not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            return None
        try:
            session = _decode(_unb64(payload))
        except (binascii.Error, ValueError, msgspec.DecodeError):
            return None
        age = self._clock() - session.issued_at
        if not -CLOCK_SKEW <= age <= self.max_age:
            return None
        return session

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())


class HasCsrf(Protocol):
    """A Session or Principal: anything that knows the CSRF token it expects."""

    @property
    def csrf(self) -> str | None: ...


def csrf_ok(session: HasCsrf | None, header_value: str | None) -> bool:
    """Whether the request's CSRF header carries the session's CSRF token."""
    if session is None or not session.csrf or not header_value:
        return False
    return hmac.compare_digest(session.csrf.encode(), header_value.encode("utf-8", "surrogatepass"))
