"""Users, passwords, API tokens, session cookies, principals and project roles."""

from server.auth.cookies import (
    COOKIE_NAME,
    CSRF_HEADER,
    Session,
    SessionSigner,
    cookie_attributes,
    csrf_ok,
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
from server.auth.memory_users import MemoryUserStore
from server.auth.principal import Principal, needs_csrf, principal_from
from server.auth.roles import PERMISSIONS, ROLES, Permission, Role, allowed, permissions_of
from server.auth.sqlite_users import SQLiteUserStore
from server.auth.users import SessionOwner, TokenInfo, User, UserStore

__all__ = [
    "COOKIE_NAME",
    "CSRF_HEADER",
    "PERMISSIONS",
    "ROLES",
    "AuthError",
    "DuplicateUser",
    "InvalidInput",
    "MemoryUserStore",
    "Permission",
    "Principal",
    "Role",
    "SQLiteUserStore",
    "Session",
    "SessionOwner",
    "SessionRevoked",
    "SessionSigner",
    "StoreClosed",
    "TokenInfo",
    "UnknownToken",
    "UnknownUser",
    "User",
    "UserDisabled",
    "UserStore",
    "allowed",
    "cookie_attributes",
    "csrf_ok",
    "needs_csrf",
    "permissions_of",
    "principal_from",
]
