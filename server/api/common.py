"""What every handler needs: reading a JSON body safely, answering, and checking the caller."""

import hmac
from collections.abc import Mapping
from typing import Any, NamedTuple, TypeVar

import msgspec
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from events.codec import payload_error
from events.errors import EventLogError
from events.projections.workspace import ProjectState
from server.auth.errors import AuthError
from server.auth.principal import Principal, needs_csrf, principal_from
from server.auth.roles import allowed
from server.errors import (
    BadRequest,
    Forbidden,
    PayloadTooLarge,
    Unauthorized,
    Unprocessable,
    from_auth_error,
    from_log_error,
)
from server.services import Services, services

T = TypeVar("T")
_json = msgspec.json.Encoder()
CSRF_HEADER = "x-csrf-token"


class JSONResponse(Response):
    """A response whose body msgspec encodes (Structs, dataclasses, dicts alike)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _json.encode(content)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 past `limit` bytes without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body is {declared} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def decode_json(body: bytes, kind: type[T]) -> T:
    """Decodes and validates a JSON body; a bad one gets an error naming the field."""
    if not body:
        raise BadRequest("a JSON body is required", field="$")
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:
        error = payload_error(exc)
        raise Unprocessable(error.message, field=error.path) from exc
    except msgspec.DecodeError as exc:
        raise BadRequest(f"body is not valid JSON: {exc}", field="$") from exc


async def read_json(request: Request, kind: type[T]) -> T:
    return decode_json(await read_body(request, services(request).settings.max_body_bytes), kind)


async def read_optional_json(request: Request, kind: type[T], default: T) -> T:
    """Like read_json, but an empty body means `default`."""
    body = await read_body(request, services(request).settings.max_body_bytes)
    return decode_json(body, kind) if body.strip() else default


async def signed_in(
    connection: HTTPConnection, headers: Mapping[str, str] | None = None
) -> Principal | None:
    """The caller, or None; a revoked session or a disabled user is answered as such (401, 403)."""
    found = services(connection)
    try:
        return await principal_from(
            connection.headers if headers is None else headers,
            connection.cookies,
            found.users,
            found.signer,
        )
    except AuthError as exc:
        raise from_auth_error(exc) from exc
    except EventLogError as exc:  # the user store's database is out of reach (503)
        raise from_log_error(exc) from exc


async def caller(connection: HTTPConnection) -> Principal:
    """The signed-in caller (401 otherwise); cookie callers must send the CSRF token to write."""
    principal = await signed_in(connection)
    if principal is None:
        raise Unauthorized("sign in first (a session cookie or an Authorization: Bearer token)")
    method = connection.scope.get("method", "GET")
    if needs_csrf(method, principal.via):
        sent = connection.headers.get(CSRF_HEADER, "")
        if not principal.csrf or not _same(sent, principal.csrf):
            raise Forbidden(f"missing or wrong {CSRF_HEADER} header", field=CSRF_HEADER)
    return principal


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def role_in(project: ProjectState, principal: Principal) -> str | None:
    return project.members.get(principal.username)


def authorize(
    found: Services, principal: Principal, project_id: str, permission: str
) -> ProjectState:
    """The project, if the caller's role in it allows `permission` (404 / 403 otherwise)."""
    project = found.live.project(project_id)
    role = role_in(project, principal)
    if not allowed(role, principal.is_admin, permission):
        if role is None and not principal.is_admin:
            raise Forbidden(f"you are not a member of project {project_id}", field="project")
        raise Forbidden(f"your role ({role}) does not allow {permission}", field="project")
    return project


class ProjectCall(NamedTuple):
    """What a handler of a project's route starts from: services, caller, project id and state."""

    found: Services
    principal: Principal
    project_id: str
    project: ProjectState


async def project_call(request: Request, permission: str) -> ProjectCall:
    """The caller of a `/api/projects/{project}/...` route, if their role allows `permission`."""
    found = services(request)
    principal = await caller(request)
    project_id = request.path_params["project"]
    project = authorize(found, principal, project_id, permission)
    return ProjectCall(found, principal, project_id, project)
