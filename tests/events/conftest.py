"""Fixtures of the event-log tests: one `store` fixture that every backend runs.

A backend is a name and an async function that opens a store in a directory; the contract
suite runs once per name in BACKENDS. To add a backend (PostgreSQL), add its opener to
OPENERS, and to DURABLE when it keeps its log across a reopen.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from events.annotation import TagApplied
from events.base import ProjectType
from events.envelope import NewEvent, Recorded
from events.memory_store import MemoryStore
from events.postgres_store import PostgresStore
from events.project import ProjectCreated
from events.sqlite_store import SQLiteStore
from events.store import CheckpointStore, EventStore
from events.vocabulary import AnyEvent
from tests.pg import postgres_session, schema_dsn

__all__ = ["postgres_session"]  # the fixture that stops the test server at the end


class Store(EventStore, CheckpointStore, Protocol):
    """What every backend is: a log and a checkpoint store in one."""


class ManualClock:
    """A clock the test moves by hand (or by `step` per reading), so that stamps are known."""

    def __init__(self, now: float = 1_700_000_000.0, step: float = 0.0) -> None:
        self.now = now
        self.step = step
        self.readings = 0

    def __call__(self) -> float:
        self.readings += 1
        now = self.now
        self.now += self.step
        return now


Opener = Callable[[Path, ManualClock], Awaitable[Store]]


async def _open_memory(directory: Path, clock: ManualClock) -> Store:
    return await MemoryStore.open(clock)


async def _open_sqlite(directory: Path, clock: ManualClock) -> Store:
    return await SQLiteStore.open(directory / "events.sqlite3", clock)


async def _open_postgres(directory: Path, clock: ManualClock) -> Store:
    # A schema per directory: a test's store is alone, and reopening finds the same log.
    return await PostgresStore.open(await schema_dsn(str(directory)), clock)


OPENERS: dict[str, Opener] = {
    "memory": _open_memory,
    "sqlite": _open_sqlite,
    "postgres": _open_postgres,
}
# PostgreSQL runs carry the `postgres` mark (they start a server): `-m "not postgres"` for speed.
BACKENDS = tuple(
    pytest.param(name, marks=pytest.mark.postgres) if name == "postgres" else name
    for name in OPENERS
)
DURABLE = ("sqlite", pytest.param("postgres", marks=pytest.mark.postgres))


@dataclass
class Backend:
    """Opens (and reopens) a store of one backend in one directory with one clock."""

    name: str
    directory: Path
    clock: ManualClock

    async def open(self) -> Store:
        return await OPENERS[self.name](self.directory, self.clock)

    @property
    def sqlite_path(self) -> Path:
        return self.directory / "events.sqlite3"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> Backend:
    return Backend(request.param, tmp_path, clock)


@pytest.fixture(params=DURABLE)
def durable_backend(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> Backend:
    return Backend(request.param, tmp_path, clock)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    opened = await backend.open()
    try:
        yield opened
    finally:
        await opened.close()


# Builders of events, so that tests read as the log they make.


def new(event_id: str, event: AnyEvent, actor: str = "ann", session: str = "s1") -> NewEvent:
    return NewEvent(event_id=event_id, event=event, actor=actor, session=session)


def created(project: str = "p", project_type: ProjectType = "image_multilabel") -> NewEvent:
    return new(
        f"{project}-created",
        ProjectCreated(project_id=project, name=f"Project {project}", project_type=project_type),
    )


def tagged(event_id: str, tag: str = "cat") -> NewEvent:
    return new(event_id, TagApplied(tag=tag))


async def create_project(store: EventStore, project: str = "p") -> list[Recorded]:
    return await store.append(f"project-{project}", [created(project)], 0)


async def read_everything(store: EventStore, page: int = 1000) -> list[Recorded]:
    """Every event of the log, read page by page."""
    out: list[Recorded] = []
    while batch := await store.read_all(out[-1].seq if out else 0, page):
        out.extend(batch)
    return out
