"""The worker's own copy of the workspace: folded from the log, followed live, checkpointed.

It reads by subscribing to the store and folding every event into the workspace projection,
as the web server's live model does. The checkpoint is the folded workspace and its seq: a
restart restores it and folds only what came after.
"""

import asyncio
import contextlib
import logging
import time
from typing import Protocol

import msgspec

from events.projections.replay import fold_log
from events.projections.workspace import Workspace, evolve, restore, snapshot
from events.store import CheckpointStore, EventStore

log = logging.getLogger("annolog.assist")
CHECKPOINT = "assist"
FOLD_WAIT_SECONDS = 30.0


class Store(EventStore, CheckpointStore, Protocol):
    """The log and the checkpoints the worker keeps in it."""


class LogFollower:
    """The workspace as of the latest event folded, kept up to date from the log."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.workspace = Workspace()
        self._advanced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._saved_seq = -1
        self.saved_at = time.monotonic()

    async def start(self) -> None:
        """Restores the checkpoint, folds what came after, then follows the log live."""
        workspace = Workspace()
        saved = await self.store.load_checkpoint(CHECKPOINT)
        if saved is not None:
            try:
                workspace = restore(saved[1])
            except (msgspec.DecodeError, msgspec.ValidationError):
                log.warning("the assistant's checkpoint cannot be read; folding the whole log")
        self.workspace = await fold_log(self.store, workspace)
        self._saved_seq = workspace.seq
        log.info(
            "assistant at seq %s, %s projects", self.workspace.seq, len(self.workspace.projects)
        )
        self._task = asyncio.create_task(self._follow(), name="assist-follower")

    async def _follow(self) -> None:
        async for recorded in self.store.subscribe(self.workspace.seq):
            try:
                evolve(self.workspace, recorded)
            except Exception:
                log.exception("folding seq %s failed", recorded.seq)
                self.workspace.seq = recorded.seq
            advanced, self._advanced = self._advanced, asyncio.Event()
            advanced.set()

    async def wait_for(self, seq: int) -> None:
        """Returns once every event up to `seq` is folded in."""
        async with asyncio.timeout(FOLD_WAIT_SECONDS):
            while self.workspace.seq < seq:
                await self._advanced.wait()

    async def wait_for_news(self, seconds: float) -> None:
        """Returns once the log moves on, or after `seconds`."""
        seq = self.workspace.seq
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while self.workspace.seq == seq:
                    await self._advanced.wait()

    async def stop(self) -> None:
        """Stops following the log (the checkpoint is the caller's to save)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def save_checkpoint(self) -> None:
        """Saves the workspace, unless it has not moved since it was last saved."""
        if self.workspace.seq != self._saved_seq:
            seq = self.workspace.seq
            await self.store.save_checkpoint(CHECKPOINT, seq, snapshot(self.workspace))
            self._saved_seq = seq
        self.saved_at = time.monotonic()
