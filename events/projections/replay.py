"""Replays of the log: rebuild a read model with checkpoints, time travel, an item's history.

A rebuild runs with the garbage collector off and freezes what it built afterwards: a full
collection over a large projection otherwise pauses for seconds (RECIPES.md), and the objects
of a projection live as long as the process anyway.
"""

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager

from events.envelope import Recorded
from events.projections.items import ItemState, evolve_item
from events.projections.workspace import (
    MULTI_LABEL_TYPES,
    Workspace,
    evolve_page,
    restore,
    snapshot,
)
from events.store import CheckpointStore, EventStore
from events.streams import item_stream

WORKSPACE = "workspace"
PAGE = 10_000
# Checkpoints are taken by elapsed time: a snapshot of a large model costs a fraction of a
# second, so a count-based rule would spend much of a fast rebuild on them.
CHECKPOINT_SECONDS = 15.0

Progress = Callable[[int, int], None]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Keeps the cyclic GC off while a projection is built, then freezes what was built."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


async def fold_log(
    store: EventStore,
    workspace: Workspace | None = None,
    *,
    until: int | None = None,
    progress: Progress | None = None,
    checkpoint: Callable[[Workspace], Awaitable[None]] | None = None,
) -> Workspace:
    """Folds the log after `workspace.seq` up to `until` (inclusive; default: the end)."""
    workspace = workspace if workspace is not None else Workspace()
    end = await store.last_seq() if until is None else until
    next_checkpoint = time.monotonic() + CHECKPOINT_SECONDS

    def fetch(after: int) -> "asyncio.Task[list[Recorded]]":
        return asyncio.ensure_future(store.read_all(after, min(PAGE, end - after)))

    with collector_paused():
        pending = fetch(workspace.seq) if workspace.seq < end else None
        while pending is not None:
            page = await pending
            if not page:
                break
            last = page[-1].seq
            # The next page is read (the database step releases the GIL) while this one folds.
            pending = fetch(last) if last < end else None
            evolve_page(workspace, page)
            if progress is not None:
                progress(workspace.seq, end)
            if checkpoint is not None and time.monotonic() >= next_checkpoint:
                await checkpoint(workspace)
                next_checkpoint = time.monotonic() + CHECKPOINT_SECONDS
    return workspace


async def rebuild(
    store: EventStore,
    checkpoints: CheckpointStore,
    *,
    name: str = WORKSPACE,
    fresh: bool = False,
    progress: Progress | None = None,
) -> Workspace:
    """Rebuilds a read model from the log, resuming from its checkpoint unless `fresh`.

    The model's state is saved every CHECKPOINT_SECONDS and at the end, so a rebuild
    that is interrupted continues where it stopped.
    """
    if fresh:
        await checkpoints.drop_checkpoint(name)
    saved = await checkpoints.load_checkpoint(name)
    workspace = restore(saved[1]) if saved is not None else Workspace()

    async def save(model: Workspace) -> None:
        await checkpoints.save_checkpoint(name, model.seq, snapshot(model))

    workspace = await fold_log(store, workspace, progress=progress, checkpoint=save)
    await save(workspace)
    return workspace


async def workspace_as_of(store: EventStore, seq: int) -> Workspace:
    """Every project as it stood just after event `seq`."""
    return await fold_log(store, until=seq)


async def workspace_at_time(store: EventStore, at: float) -> Workspace:
    """Every project as it stood at server time `at`."""
    return await fold_log(store, until=await store.seq_at(at))


async def item_history(store: EventStore, project: str, item: str) -> list[Recorded]:
    """Every event of an item's own stream, in order: the auditor's stroke-by-stroke view."""
    return await store.read_stream(item_stream(project, item))


def replay_item(
    events: Sequence[Recorded], project_type: str, until: int | None = None
) -> ItemState:
    """The item's annotation state after its events up to seq `until` (default: all)."""
    state = ItemState(multi_label=project_type in MULTI_LABEL_TYPES)
    for recorded in events:
        if until is not None and recorded.seq > until:
            break
        evolve_item(state, recorded.event_id, recorded.event, recorded.actor)  # type: ignore[arg-type]
        state.last_seq = recorded.seq
    return state
