"""Errors the HTTP and websocket layers answer with, and how log errors map onto them.

    ApiError (status, code, message, field)
    ├── BadRequest       400  malformed input
    ├── Unauthorized     401  no valid sign-in
    ├── Forbidden        403  signed in, but the role does not allow it (or CSRF missing)
    ├── NotFound         404  no such project, item, user or stream
    ├── Conflict         409  stale version, lease lapsed, item not on the caller's page
    ├── PayloadTooLarge  413
    ├── Unprocessable    422  well-formed but invalid: names the field at fault
    └── Unavailable      503  the store is closed or out of reach for now: retry

Every answer is JSON: {"error": {"code", "message", "field"?, ...extra}}. Errors of the event
log map through `from_log_error`, those of the auth library through `from_auth_error`.
"""

from typing import Any

from events.errors import (
    ConcurrencyError,
    DuplicateEventError,
    EventLogError,
    PayloadError,
    StoreClosedError,
    StoreUnavailableError,
    StreamError,
    StreamNotFound,
)
from server.auth.errors import (
    AuthError,
    DuplicateUser,
    InvalidInput,
    SessionRevoked,
    StoreClosed,
    UnknownToken,
    UnknownUser,
    UserDisabled,
)

BAD_REQUEST = 400
UNAUTHORIZED = 401
FORBIDDEN = 403
NOT_FOUND = 404
CONFLICT = 409
PAYLOAD_TOO_LARGE = 413
UNPROCESSABLE = 422
UNAVAILABLE = 503


class ApiError(Exception):
    """An error answered to the client as is: a status, a code and a message naming the fault."""

    status = BAD_REQUEST
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        error.update(self.extra)
        return {"error": error}


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    status, code = UNAUTHORIZED, "unauthorized"


class Forbidden(ApiError):
    status, code = FORBIDDEN, "forbidden"


class NotFound(ApiError):
    status, code = NOT_FOUND, "not_found"


class Conflict(ApiError):
    status, code = CONFLICT, "conflict"


class LeaseLost(Conflict):
    """The caller's lease on an item lapsed or the item is not on their page."""

    code = "lease_lost"


class PayloadTooLarge(ApiError):
    status, code = PAYLOAD_TOO_LARGE, "payload_too_large"


class Unprocessable(ApiError):
    status, code = UNPROCESSABLE, "invalid"


class Unavailable(ApiError):
    status, code = UNAVAILABLE, "unavailable"


def from_log_error(exc: EventLogError) -> ApiError:
    """The ApiError that answers an error of the event log."""
    match exc:
        case ConcurrencyError():
            return Conflict(
                str(exc),
                stream=exc.stream,
                expected_version=exc.expected,
                current_version=exc.actual,
            )
        case DuplicateEventError():
            return Conflict(str(exc), field="event_id", event_id=exc.event_id)
        case PayloadError():
            return Unprocessable(exc.message, field=exc.path)
        case StreamNotFound():
            return NotFound(str(exc), stream=exc.stream)
        case StreamError():
            return BadRequest(str(exc), stream=exc.stream)
        case StoreClosedError() | StoreUnavailableError():
            return Unavailable(str(exc))
    return BadRequest(str(exc))


def from_auth_error(exc: AuthError) -> ApiError:
    """The ApiError that answers an error of the auth library, its field kept."""
    match exc:
        case InvalidInput():
            return Unprocessable(exc.message, field=exc.field)
        case DuplicateUser():
            return Conflict(exc.message, field=exc.field)
        case UnknownUser() | UnknownToken():
            return NotFound(exc.message, field=exc.field)
        case UserDisabled():
            return Forbidden(exc.message, field=exc.field)
        case SessionRevoked():
            return Unauthorized(exc.message, field=exc.field)
        case StoreClosed():
            return Unavailable(exc.message)
    return Unprocessable(exc.message, field=exc.field)
