"""Who is making a request: from a bearer API token, else from the session cookie.

An Authorization header with the Bearer scheme decides alone: a bad token is refused even if a
good cookie came with it, so that a script's broken token never borrows a browser session.
Other schemes (a proxy's Basic credentials) are ignored. Cookie-borne requests that change state
must also pass the CSRF check; token-borne ones need not, as no browser attaches a token by
itself. A websocket handshake is a GET, so the caller must check its Origin instead.
"""

from collections.abc import Mapping
from typing import Literal

import msgspec

from server.auth.cookies import COOKIE_NAME, SessionSigner
from server.auth.users import UserStore, token_id_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
TOKEN_SESSION_PREFIX = "tok-"


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """A signed-in caller: the user, the session or token they came by, and its CSRF token."""

    username: str
    is_admin: bool
    session_id: str
    via: Literal["cookie", "token"]
    csrf: str | None = None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # Starlette's Headers ignore case; a plain dict does not, so look by hand when it misses.
    value = headers.get(name)
    if value is not None:
        return value
    return next((v for k, v in headers.items() if k.lower() == name), None)


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of a Bearer Authorization header, "" for an empty one, None if there is none."""
    authorization = _header(headers, "authorization")
    if authorization is None:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


async def principal_from(
    headers: Mapping[str, str],
    cookies: Mapping[str, str],
    users: UserStore,
    signer: SessionSigner,
) -> Principal | None:
    """The caller of a request or websocket handshake, or None if they are not signed in.

    A cookie from before its user's sessions were revoked raises SessionRevoked, and a token
    of a disabled user UserDisabled, so that the caller can say why rather than just 401.
    """
    token = bearer_token(headers)
    if token is not None:
        user = await users.user_for_token(token)
        token_id = token_id_of(token)
        if user is None or token_id is None:
            return None
        return Principal(
            username=user.username,
            is_admin=user.is_admin,
            session_id=TOKEN_SESSION_PREFIX + token_id,
            via="token",
        )
    session = signer.verify(cookies.get(COOKIE_NAME))
    if session is None:
        return None
    # SessionRevoked if the user's sessions were revoked since; see the store for the cache.
    user = await users.session_user(session.username, session.epoch)
    if user is None:
        return None
    return Principal(
        username=user.username,
        is_admin=user.is_admin,
        session_id=session.session_id,
        via="cookie",
        csrf=session.csrf,
    )


def needs_csrf(method: str, via: str) -> bool:
    """Whether a request must pass the CSRF check: a state-changing method with cookie auth."""
    return via == "cookie" and method.upper() not in SAFE_METHODS
