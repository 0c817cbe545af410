"""Signing in and out (browser sessions) and API tokens (scripts)."""

from typing import Annotated

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.routing import Route

from server.api.common import JSONResponse, caller, read_json
from server.api.openapi import accepts
from server.auth.cookies import cookie_attributes
from server.auth.principal import TOKEN_SESSION_PREFIX
from server.auth.users import MAX_PASSWORD, MIN_PASSWORD
from server.errors import Forbidden, NotFound, Unauthorized, Unprocessable
from server.services import Services, services


class LoginBody(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, Meta(min_length=1, max_length=64)]
    password: Annotated[str, Meta(min_length=1, max_length=1024)]


class PasswordBody(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Annotated[str, Meta(min_length=1, max_length=1024)]
    new_password: Annotated[str, Meta(min_length=1, max_length=1024)]


class TokenBody(msgspec.Struct, forbid_unknown_fields=True):
    label: Annotated[str, Meta(min_length=1, max_length=100)]


@accepts(LoginBody)
async def sign_in(request: Request) -> JSONResponse:
    """Signs in with a password: sets the session cookie and returns the CSRF token."""
    found = services(request)
    body = await read_json(request, LoginBody)
    owner = await found.users.authenticate_session(body.username, body.password)
    if owner is None:
        raise Unauthorized("wrong username or password", field="password")
    user = owner.user
    session = found.signer.new_session(user.username, epoch=owner.epoch)
    response = JSONResponse(
        {
            "user": user.username,
            "display_name": user.display_name,
            "is_admin": user.is_admin,
            "session": session.session_id,
            "csrf_token": session.csrf,
        }
    )
    response.set_cookie(
        value=found.signer.sign(session),
        max_age=found.settings.session_max_age,
        **cookie_attributes(found.settings.secure_cookies),
    )
    return response


async def who_am_i(request: Request) -> JSONResponse:
    """The signed-in user, their session and CSRF token."""
    found = services(request)
    principal = await caller(request)
    user = await found.users.get(principal.username)
    return JSONResponse(
        {
            "user": principal.username,
            "display_name": user.display_name if user else "",
            "is_admin": principal.is_admin,
            "session": principal.session_id,
            "csrf_token": principal.csrf,
            "via": principal.via,
        }
    )


async def sign_out(request: Request) -> JSONResponse:
    """Signs out: the session's pages go back to the queue at once, and the cookie is cleared."""
    found = services(request)
    principal = await caller(request)
    await found.commands.sign_out(principal.username, principal.session_id)
    return _without_cookie(found, JSONResponse({"signed_out": principal.username}))


async def sign_out_everywhere(request: Request) -> JSONResponse:
    """Ends every session cookie of the caller issued until now, copies included.

    Their pages go back to the queue at once. API tokens are not sessions: they stay valid.
    """
    found = services(request)
    principal = await caller(request)
    await found.users.revoke_sessions(principal.username)
    await end_cookie_sessions(found, principal.username)
    return _without_cookie(found, JSONResponse({"revoked": principal.username}))


@accepts(PasswordBody)
async def change_password(request: Request) -> JSONResponse:
    """Changes the caller's own password: every other session cookie of theirs ends, this one
    carries on (same session, same CSRF token); API tokens stay valid."""
    found = services(request)
    principal = await caller(request)
    if principal.via != "cookie":
        raise Forbidden(
            "sign in with your password to change it; an API token cannot", field="authorization"
        )
    body = await read_json(request, PasswordBody)
    if not MIN_PASSWORD <= len(body.new_password) <= MAX_PASSWORD:
        raise Unprocessable(
            f"new_password: {MIN_PASSWORD} to {MAX_PASSWORD} characters", field="new_password"
        )
    if await found.users.authenticate(principal.username, body.current_password) is None:
        raise Forbidden("that is not your current password", field="current_password")
    await found.users.set_password(principal.username, body.new_password)
    owner = await found.users.authenticate_session(principal.username, body.new_password)
    if owner is None:  # changed again, by another request, in between
        raise Unauthorized("your password was changed again meanwhile: sign in", field="session")
    await end_cookie_sessions(found, principal.username, keep=principal.session_id)
    assert principal.csrf is not None, "a cookie session always has a CSRF token"
    session = found.signer.continued(
        principal.username, principal.session_id, principal.csrf, epoch=owner.epoch
    )
    response = JSONResponse({"changed": principal.username})
    response.set_cookie(
        value=found.signer.sign(session),
        max_age=found.settings.session_max_age,
        **cookie_attributes(found.settings.secure_cookies),
    )
    return response


async def end_cookie_sessions(found: Services, username: str, keep: str | None = None) -> None:
    """Signs out, in the queue, every open session of the user that came by cookie (but `keep`)."""
    sessions = {
        session_id
        for project in list(found.live.workspace.projects.values())
        for session_id, session in project.queue.sessions.items()
        if session.user == username
        and session.open
        and session_id != keep
        and not session_id.startswith(TOKEN_SESSION_PREFIX)
    }
    for session_id in sorted(sessions):
        await found.commands.sign_out(username, session_id)


def _without_cookie(found: Services, response: JSONResponse) -> JSONResponse:
    attributes = cookie_attributes(found.settings.secure_cookies)
    response.delete_cookie(
        attributes["key"],
        path=attributes["path"],
        secure=attributes["secure"],
        httponly=attributes["httponly"],
        samesite=attributes["samesite"],
    )
    return response


@accepts(TokenBody)
async def create_token(request: Request) -> JSONResponse:
    """Creates an API token for scripts; its secret is shown this once."""
    found = services(request)
    principal = await caller(request)
    body = await read_json(request, TokenBody)
    token_id, secret = await found.users.create_token(principal.username, body.label)
    return JSONResponse(
        {"token_id": token_id, "token": secret, "label": body.label}, status_code=201
    )


async def list_tokens(request: Request) -> JSONResponse:
    """The caller's API tokens (never their secrets)."""
    found = services(request)
    principal = await caller(request)
    return JSONResponse({"tokens": await found.users.list_tokens(principal.username)})


async def revoke_token(request: Request) -> JSONResponse:
    """Revokes one of the caller's API tokens."""
    found = services(request)
    principal = await caller(request)
    token_id = request.path_params["token"]
    mine = {t.token_id for t in await found.users.list_tokens(principal.username)}
    if token_id not in mine:
        raise NotFound(f"you have no token {token_id}", field="token")
    await found.users.revoke_token(token_id)
    return JSONResponse({"revoked": token_id})


routes = [
    Route("/api/session", sign_in, methods=["POST"]),
    Route("/api/session", who_am_i, methods=["GET"]),
    Route("/api/session", sign_out, methods=["DELETE"]),
    Route("/api/session/revoke", sign_out_everywhere, methods=["POST"]),
    Route("/api/session/password", change_password, methods=["PUT"]),
    Route("/api/tokens", create_token, methods=["POST"]),
    Route("/api/tokens", list_tokens, methods=["GET"]),
    Route("/api/tokens/{token}", revoke_token, methods=["DELETE"]),
]
