"""The tables of the event log in PostgreSQL, as the numbered migrations that make them."""

from events.postgres_schema import Migration

COMPONENT = "events"
MIGRATIONS: list[Migration] = [
    (
        1,
        """
        CREATE TABLE events (
            seq BIGINT PRIMARY KEY,
            stream TEXT NOT NULL,
            version INTEGER NOT NULL,
            event_id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            actor TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            body BYTEA NOT NULL,
            UNIQUE (stream, version)
        );
        CREATE TABLE read_models (
            name TEXT PRIMARY KEY,
            seq BIGINT NOT NULL,
            state BYTEA NOT NULL
        );
        """,
    ),
]
