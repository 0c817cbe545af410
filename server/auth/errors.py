"""Errors of the auth library.

    AuthError (message, field)
    ├── InvalidInput     a username, password, display name or token label that breaks its rule
    ├── DuplicateUser    the username is taken (compared without regard to case)
    ├── UnknownUser      no user has that username
    ├── UnknownToken     no API token has that id
    ├── UserDisabled     the user is disabled: right credentials, but no entry
    ├── SessionRevoked   the session cookie was issued before its user's sessions were revoked
    └── StoreClosed      the user store was closed

A failed sign-in is not an error: `authenticate`, `user_for_token` and `principal_from` answer
None. Every message names its field (`username`, `password`, `token_id`, `session`, ...) so that
the HTTP layer can answer it as is: InvalidInput as 422, DuplicateUser as 409, UnknownUser and
UnknownToken as 404, UserDisabled as 403, SessionRevoked as 401, StoreClosed as 503.
"""


class AuthError(Exception):
    """Base of every error the auth library raises; `field` names the input at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(AuthError):
    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}", field)


class DuplicateUser(AuthError):
    def __init__(self, username: str) -> None:
        super().__init__(f"username: a user named {username!r} already exists", "username")
        self.username = username


class UnknownUser(AuthError):
    def __init__(self, username: str) -> None:
        super().__init__(f"username: no user named {username!r}", "username")
        self.username = username


class UnknownToken(AuthError):
    def __init__(self, token_id: str) -> None:
        super().__init__(f"token_id: no API token with id {token_id!r}", "token_id")
        self.token_id = token_id


class UserDisabled(AuthError):
    def __init__(self, username: str) -> None:
        super().__init__(
            f"username: user {username!r} is disabled; an administrator can enable it",
            "username",
        )
        self.username = username


class SessionRevoked(AuthError):
    def __init__(self, username: str) -> None:
        super().__init__(
            f"session: the sessions of {username!r} were revoked after this one began (signed"
            " out everywhere, a new password, or the user disabled); sign in again",
            "session",
        )
        self.username = username


class StoreClosed(AuthError):
    def __init__(self) -> None:
        super().__init__("the user store is closed")
