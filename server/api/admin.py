"""Administration: users, and rebuilding a read model from the log with progress."""

import time
from collections.abc import AsyncIterator
from typing import Annotated

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from events.codec import encode_json
from events.projections.replay import rebuild
from events.projections.workspace import snapshot
from server.api.common import JSONResponse, caller, read_json
from server.api.openapi import accepts
from server.api.session import end_cookie_sessions
from server.auth.principal import Principal
from server.auth.users import User
from server.errors import Forbidden, NotFound, Unprocessable
from server.services import services


class UserBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    username: Annotated[str, Meta(min_length=1, max_length=64)]
    password: Annotated[str, Meta(min_length=8, max_length=1024)]
    display_name: Annotated[str, Meta(max_length=200)] = ""
    is_admin: bool = False


async def list_users(request: Request) -> JSONResponse:
    """Every user (administrators only)."""
    found = services(request)
    principal = await caller(request)
    if not principal.is_admin:
        raise Forbidden("only an administrator can list users")
    return JSONResponse({"users": await found.users.list_users()})


@accepts(UserBody)
async def add_user(request: Request) -> JSONResponse:
    """Creates a user (administrators only)."""
    found = services(request)
    principal = await caller(request)
    if not principal.is_admin:
        raise Forbidden("only an administrator can add users")
    body = await read_json(request, UserBody)
    user = await found.users.add_user(
        body.username, body.password, display_name=body.display_name, is_admin=body.is_admin
    )
    return JSONResponse(user, status_code=201)


class UserChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    password: Annotated[str, Meta(min_length=8, max_length=1024)] | None = None
    disabled: bool | None = None


async def _admin_and_user(request: Request, action: str) -> tuple[Principal, User]:
    """The caller if a global administrator (403 otherwise), and the user the path names."""
    found = services(request)
    principal = await caller(request)
    if not principal.is_admin:
        raise Forbidden(f"only an administrator can {action}")
    username = request.path_params["user"]
    user = await found.users.get(username)
    if user is None:
        raise NotFound(f"user: no user named {username!r}", field="user")
    return principal, user


@accepts(UserChange)
async def change_user(request: Request) -> JSONResponse:
    """Sets a user's password or disables / enables them (administrators only).

    A new password and disabling both end the user's sessions, and disabling refuses their
    API tokens until they are enabled again.
    """
    found = services(request)
    principal, user = await _admin_and_user(request, "change users")
    body = await read_json(request, UserChange)
    if body.password is None and body.disabled is None:
        raise Unprocessable("give `password`, `disabled` or both", field="$")
    if body.disabled and user.username == principal.username:
        # An administrator who locks themselves out may leave no one able to undo it.
        raise Unprocessable("disabled: you cannot disable yourself", field="$.disabled")
    if body.password is not None:
        await found.users.set_password(user.username, body.password)
    if body.disabled is not None:
        user = await found.users.set_disabled(user.username, body.disabled)
    await end_cookie_sessions(found, user.username)
    return JSONResponse(user)


async def revoke_user_sessions(request: Request) -> JSONResponse:
    """Signs a user out everywhere (administrators only); their API tokens stay valid."""
    found = services(request)
    _, user = await _admin_and_user(request, "revoke sessions")
    await found.users.revoke_sessions(user.username)
    await end_cookie_sessions(found, user.username)
    return JSONResponse({"revoked": user.username})


async def reproject(request: Request) -> StreamingResponse:
    """Drops the workspace read model and rebuilds it from the log, streaming progress lines.

    The rebuilt model is checked against the live one byte for byte and then saved as the
    checkpoint the next start resumes from.
    """
    found = services(request)
    principal = await caller(request)
    if not principal.is_admin:
        raise Forbidden("only an administrator can rebuild read models")

    async def lines() -> AsyncIterator[bytes]:
        started = time.perf_counter()
        progress: list[tuple[int, int]] = []
        yield encode_json({"phase": "started", "last_seq": await found.store.last_seq()}) + b"\n"

        def report(done: int, total: int) -> None:
            progress.append((done, total))

        workspace = await rebuild(found.store, found.checkpoints, fresh=True, progress=report)
        for done, total in progress:
            yield encode_json({"phase": "folding", "seq": done, "of": total}) + b"\n"
        live = found.live.workspace
        same = live.seq == workspace.seq and snapshot(live) == snapshot(workspace)
        yield (
            encode_json(
                {
                    "phase": "done",
                    "seq": workspace.seq,
                    "seconds": round(time.perf_counter() - started, 3),
                    "bytes": len(snapshot(workspace)),
                    "equals_live": same if live.seq == workspace.seq else None,
                }
            )
            + b"\n"
        )

    return StreamingResponse(lines(), media_type="application/x-ndjson")


routes = [
    Route("/api/users", list_users, methods=["GET"]),
    Route("/api/users", add_user, methods=["POST"]),
    Route("/api/users/{user}", change_user, methods=["PATCH"]),
    Route("/api/users/{user}/sessions/revoke", revoke_user_sessions, methods=["POST"]),
    Route("/api/admin/reproject", reproject, methods=["POST"]),
]
