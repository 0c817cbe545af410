"""Collect the warnings pydicom raises on untrusted files instead of letting them escape."""

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

# warnings.catch_warnings swaps process-wide state (until Python 3.14): two threads entering
# it at once could restore each other's filters, so our own readers take turns.
_LOCK = threading.Lock()
# A block nested in another (decoding inside ingest) reports to the outer one.
_STATE = threading.local()


class Caught:
    """The warnings raised so far inside a `captured_warnings` block."""

    def __init__(self, records: list[warnings.WarningMessage]) -> None:
        self._records = records

    def messages(self) -> list[str]:
        """Return each distinct warning message once, in the order first raised."""
        return list(dict.fromkeys(str(record.message) for record in self._records))


@contextmanager
def captured_warnings() -> Iterator[Caught]:
    """Record every warning raised inside the block instead of emitting it."""
    outer: Caught | None = getattr(_STATE, "caught", None)
    if outer is not None:
        yield outer
        return
    with _LOCK, warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        _STATE.caught = Caught(records)
        try:
            yield _STATE.caught
        finally:
            _STATE.caught = None
