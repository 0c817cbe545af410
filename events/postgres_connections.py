"""How the PostgreSQL store connects, and what it raises when the database is out of reach.

Driver errors are translated here, in one place: whatever says that the database cannot be
reached or cannot finish the work now (a refused or cut connection, a server shutting down or
starting up, too many connections, a cancelled statement, a transaction rolled back on a
serialization failure or deadlock) becomes StoreUnavailableError. Each of these leaves the log
as it was or, for a COMMIT whose answer was lost, possibly with the batch written; a retry of
the same append (the same event ids) is recognised either way, so retrying is safe.
"""

import contextlib
import hashlib
from collections.abc import Iterator

import asyncpg

from events.errors import StoreUnavailableError

POOL_SIZE = 8
# A writer that stalls inside its transaction must not hold the append lock for ever.
WRITER_SETTINGS = {
    "application_name": "annolog-writer",
    "idle_in_transaction_session_timeout": "60s",
}
LISTENER_SETTINGS = {"application_name": "annolog-listener"}
READER_SETTINGS = {"application_name": "annolog-reader"}

# What a dropped connection raises (a server that restarted, a cut socket); asyncpg may also
# find a connection cut while idle in a state it reports as an internal error.
CONNECTION_LOST = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
)
# Everything that means "not now" rather than "never": the connection errors above, a server
# that refuses connections while it starts or stops (57P03) or has no slot left (53300), a
# statement cancelled or a session ended by an operator or a timeout (57xxx, 25P03), and a
# transaction rolled back by a serialization failure or a deadlock (40xxx).
UNAVAILABLE = (
    *CONNECTION_LOST,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.TransactionRollbackError,
    asyncpg.exceptions.IdleInTransactionSessionTimeoutError,
)


def channel_for(schema: str) -> str:
    """The NOTIFY channel of the log in this schema (a short name, whatever the schema's)."""
    return "annolog_" + hashlib.sha1(schema.encode()).hexdigest()[:16]


def unavailable(exc: BaseException) -> StoreUnavailableError:
    """The log error that answers a driver error of UNAVAILABLE."""
    return StoreUnavailableError(f"PostgreSQL: {str(exc) or type(exc).__name__}")


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Raises StoreUnavailableError for a driver error that says the database is out of reach."""
    try:
        yield
    except UNAVAILABLE as exc:
        raise unavailable(exc) from exc
