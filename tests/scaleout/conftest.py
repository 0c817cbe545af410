"""Fixtures of the scale-out tests: the session's PostgreSQL server (started on first use)."""

from tests.pg import postgres_session

__all__ = ["postgres_session"]  # the fixture that stops the test server at the end
