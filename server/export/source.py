"""Where an export reads the project from: the live model, or the log replayed to a seq.

Both give the project's header and then, item by item in import order, the item and its
annotation state as of the export's `seq`, so that an export is a projection of the log
like any other read model and can be taken as of any moment.

- `LiveSource` reads the live model. The export is consistent as of the seq it started at,
  although the model moves on while the response streams: an item whose state has changed
  since (an event past `seq` touched it) is replayed from the log up to `seq` instead.
- `ReplaySource` folds the project's settings and queue streams up to `seq`, then replays
  each item's own stream merged with its submits, one item at a time.

Neither holds more than one item's annotations at a time beyond what the live model already
holds; the replay keeps the project's item list and an index of the queue's submits (a few
ints per submission).
"""

from __future__ import annotations

import bisect
import itertools
from abc import ABC, abstractmethod
from array import array
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

from events.envelope import Recorded
from events.project import PROJECT_EVENTS, ImportedItem
from events.projections.items import ItemState, evolve_item, submit
from events.projections.workspace import MULTI_LABEL_TYPES, ProjectState, Workspace, evolve
from events.queue import PageSubmitted
from events.store import EventStore
from events.streams import item_stream, project_stream, queue_stream
from server.errors import NotFound, Unprocessable
from server.export.model import ExportOptions, ExportProject

PAGE = 1_000


@dataclass
class Submits:
    """The queue's submits up to a seq: when each happened, and (if asked) who submitted what."""

    seqs: array[int] = field(default_factory=lambda: array("q"))
    ats: array[float] = field(default_factory=lambda: array("d"))
    by_item: dict[str, list[tuple[int, str]]] | None = None

    def time_of(self, seq: int) -> float | None:
        index = bisect.bisect_left(self.seqs, seq)
        if index < len(self.seqs) and self.seqs[index] == seq:
            return self.ats[index]
        return None


async def read_until(store: EventStore, stream: str, seq: int) -> AsyncIterator[Recorded]:
    """The stream's events with seq <= `seq`, read a page at a time."""
    after = 0
    while True:
        page = await store.read_stream(stream, after, PAGE)
        for recorded in page:
            if recorded.seq > seq:
                return
            yield recorded
        if len(page) < PAGE:
            return
        after = page[-1].version


async def read_submits(store: EventStore, project_id: str, seq: int, by_item: bool) -> Submits:
    submits = Submits(by_item={} if by_item else None)
    async for recorded in read_until(store, queue_stream(project_id), seq):
        event = recorded.event
        if isinstance(event, PageSubmitted):
            submits.seqs.append(recorded.seq)
            submits.ats.append(recorded.at)
            if submits.by_item is not None:
                for item in event.items:
                    submits.by_item.setdefault(item, []).append((recorded.seq, event.labeler))
    return submits


async def time_at(store: EventStore, seq: int) -> float | None:
    if seq <= 0:
        return None
    found = await store.read_all(seq - 1, 1)
    return found[0].at if found else None


async def replay_item(
    store: EventStore,
    project_id: str,
    item_id: str,
    seq: int,
    submits: list[tuple[int, str]],
    multi_label: bool,
) -> ItemState:
    """The item's annotation state as of `seq`: its stream's events and its submits in order,
    folded exactly as the workspace folds them."""
    state = ItemState(multi_label=multi_label)
    pending = sorted(submits)
    index = 0
    async for recorded in read_until(store, item_stream(project_id, item_id), seq):
        while index < len(pending) and pending[index][0] < recorded.seq:
            submit(state, pending[index][1], pending[index][0])
            index += 1
        evolve_item(state, recorded.event_id, recorded.event, recorded.actor)  # type: ignore[arg-type]
        state.last_seq = recorded.seq
        state.version = recorded.version
    for submit_seq, labeler in pending[index:]:
        submit(state, labeler, submit_seq)
    return state


class Source(ABC):
    """The project as of `seq` and its items with their annotation states."""

    project: ExportProject
    store: EventStore
    project_id: str
    seq: int
    multi_label: bool
    _submits: Submits | None = None

    async def load_times(self) -> None:
        """Reads when each submit happened (for formats that say when a label was made)."""
        if self._submits is None:
            self._submits = await read_submits(self.store, self.project_id, self.seq, False)

    def time_of(self, seq: int) -> float | None:
        return None if self._submits is None else self._submits.time_of(seq)

    async def _submits_by_item(self) -> dict[str, list[tuple[int, str]]]:
        if self._submits is None or self._submits.by_item is None:
            self._submits = await read_submits(self.store, self.project_id, self.seq, True)
        assert self._submits.by_item is not None
        return self._submits.by_item

    async def _replay(self, item_id: str) -> ItemState:
        by_item = await self._submits_by_item()
        return await replay_item(
            self.store,
            self.project_id,
            item_id,
            self.seq,
            by_item.get(item_id, []),
            self.multi_label,
        )

    @abstractmethod
    def items(self) -> AsyncIterator[tuple[ImportedItem, ItemState | None]]:
        """The project's items in import order, each with its annotations as of the seq."""


def _header(
    project_id: str, state: ProjectState, seq: int, at: float | None, options: ExportOptions
) -> ExportProject:
    return ExportProject(
        project_id=project_id,
        name=state.settings.name,
        project_type=state.settings.project_type,
        tags=tuple(state.tags),
        seq=seq,
        at=at,
        options=options,
    )


class LiveSource(Source):
    """The live model's project, consistent as of the seq the export started at."""

    def __init__(
        self,
        store: EventStore,
        project_id: str,
        state: ProjectState,
        seq: int,
        at: float | None,
        options: ExportOptions,
    ) -> None:
        self.store = store
        self.project_id = project_id
        self.state = state
        self.seq = seq
        self.multi_label = state.multi_label
        self.project = _header(project_id, state, seq, at, options)
        self._items = state.items
        # Items are only ever added, at the end: those of the export are the first `count`.
        self._count = len(state.items)

    async def items(self) -> AsyncIterator[tuple[ImportedItem, ItemState | None]]:
        position = 0
        keys: Iterator[str] = iter(self._items)
        while position < self._count:
            try:
                item_id = next(keys)
            except RuntimeError:
                # Items were imported while the export streamed: go on from where it was
                # (the new ones are at the end, past `count`), without a list of every id.
                keys = itertools.islice(iter(self._items), position, None)
                continue
            position += 1
            item = self._items[item_id]
            state = self.state.annotations.get(item_id)
            if state is not None and _moved_past(state, self.seq):
                state = await self._replay(item_id)
            yield item, state


def _moved_past(state: ItemState, seq: int) -> bool:
    if state.last_seq > seq:
        return True
    return any(work.submitted_seq > seq for work in state.work.values())


class ReplaySource(Source):
    """The project replayed from the log up to `seq`, one item at a time."""

    def __init__(self, store: EventStore, project_id: str, seq: int) -> None:
        self.store = store
        self.project_id = project_id
        self.seq = seq

    @classmethod
    async def open(
        cls, store: EventStore, project_id: str, seq: int, options: ExportOptions
    ) -> ReplaySource:
        source = cls(store, project_id, seq)
        scratch = Workspace()
        async for recorded in read_until(store, project_stream(project_id), seq):
            if isinstance(recorded.event, PROJECT_EVENTS):
                evolve(scratch, recorded)
        state = scratch.projects.get(project_id)
        if state is None:
            raise NotFound(f"project {project_id} did not exist yet at seq {seq}", field="as_of")
        source.state = state
        source.multi_label = state.settings.project_type in MULTI_LABEL_TYPES
        source.project = _header(project_id, state, seq, await time_at(store, seq), options)
        return source

    state: ProjectState

    async def items(self) -> AsyncIterator[tuple[ImportedItem, ItemState | None]]:
        by_item = await self._submits_by_item()
        for item_id, item in self.state.items.items():
            state = await replay_item(
                self.store,
                self.project_id,
                item_id,
                self.seq,
                by_item.get(item_id, []),
                self.multi_label,
            )
            yield item, (state if state.work or state.proposals else None)


async def open_source(
    store: EventStore,
    project_id: str,
    options: ExportOptions,
    *,
    live: Workspace | None = None,
    as_of: int | None = None,
) -> Source:
    """The source for an export of `project_id` as of seq `as_of` (None: now).

    With a live workspace, an export as of its seq (or later) reads it; anything older is
    replayed from the log.
    """
    last = await store.last_seq()
    if as_of is not None and as_of > last:
        raise Unprocessable(
            f"as_of {as_of} is past the end of the log (last seq {last})", field="as_of"
        )
    if live is not None and (as_of is None or as_of >= live.seq):
        state = live.projects.get(project_id)
        if state is None:
            raise NotFound(f"project {project_id} does not exist", field="project")
        return LiveSource(
            store, project_id, state, live.seq, await time_at(store, live.seq), options
        )
    return await ReplaySource.open(store, project_id, last if as_of is None else as_of, options)
