"""Errors of the event log.

    EventLogError
    ├── PayloadError          a payload refused: undecodable, unknown type, bad value, too large
    ├── StreamError           a malformed stream name, or an event that stream does not take
    │   └── StreamNotFound    the stream (or its project) does not exist yet
    ├── ConcurrencyError      the expected version is stale: carries stream, expected, actual
    ├── DuplicateEventError   an event id already in the log, reused with another payload
    ├── StoreClosedError      the store was closed while the call waited
    └── StoreUnavailableError the database is out of reach for now: try again (carries reason)

Every error's message names the field, stream or id at fault, so it can go to a client as is.
"""


class EventLogError(Exception):
    """Base of every error the event log raises."""


class PayloadError(EventLogError):
    """A payload that cannot become an event; `path` names the bad field (`$.events[2].x`)."""

    def __init__(self, message: str, path: str = "$") -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class StreamError(EventLogError):
    def __init__(self, stream: str, message: str) -> None:
        super().__init__(f"{stream}: {message}")
        self.stream = stream
        self.message = message


class StreamNotFound(StreamError):
    pass


class ConcurrencyError(EventLogError):
    def __init__(self, stream: str, expected: int, actual: int) -> None:
        super().__init__(
            f"{stream}: expected version {expected}, but the stream is at version {actual}"
        )
        self.stream = stream
        self.expected = expected
        self.actual = actual


class DuplicateEventError(EventLogError):
    def __init__(self, event_id: str, message: str) -> None:
        super().__init__(f"event_id {event_id}: {message}")
        self.event_id = event_id


class StoreClosedError(EventLogError):
    pass


class StoreUnavailableError(EventLogError):
    """The backend could not be reached or could not finish the call now; a retry may succeed.

    An append that fails so was not acknowledged, though its COMMIT may have happened: a retry
    with the same event ids returns the original envelopes and writes nothing twice.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"the event store is unavailable ({reason}); try again: an append retried with the"
            " same event ids is recognised and never written twice"
        )
        self.reason = reason
