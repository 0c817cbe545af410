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
from server.errors import Forbidden
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
    Route("/api/admin/reproject", reproject, methods=["POST"]),
]
