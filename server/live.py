"""The live read model: the workspace projection kept up to date from the log.

One task follows the store's subscription, folds each event into the workspace, then hands
it to the listeners (the websocket hub). Commands wait until their own events are folded in
before answering, so a client always reads what it just wrote.
"""

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable

from events.envelope import Recorded
from events.projections.replay import rebuild
from events.projections.workspace import ProjectState, Workspace, evolve, snapshot
from events.store import CheckpointStore, EventStore
from server.errors import NotFound

log = logging.getLogger(__name__)
FOLD_WAIT_SECONDS = 10.0
# The workspace only grows, and an automatic full collection walks every object in it (~100 ms
# at 15k labelled items, during which no request moves). The rebuild at start moves what it
# built to the permanent generation; what is folded in later goes there too, once it is this
# many objects, right after a full collection of those alone (~10 ms). Cyclic garbage still
# alive then is never freed: 80 objects for 500k frozen in a run of 50 labelers.
FREEZE_AFTER_OBJECTS = 25_000
FREEZE_CHECK_SECONDS = 1.0
Listener = Callable[[Recorded, Workspace], None]


class LiveModel:
    """The workspace as of the newest event this process has folded in."""

    def __init__(self, store: EventStore, checkpoints: CheckpointStore) -> None:
        self.store = store
        self.checkpoints = checkpoints
        self.workspace = Workspace()
        self.listeners: list[Listener] = []
        self._advanced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._saved_seq = 0
        self._next_freeze_check = 0.0

    @property
    def seq(self) -> int:
        return self.workspace.seq

    async def start(self) -> None:
        """Rebuilds from the last checkpoint (or the start of the log), then follows it live."""
        self.workspace = await rebuild(self.store, self.checkpoints)
        self._saved_seq = self.workspace.seq
        self._task = asyncio.create_task(self._follow(), name="live-model")

    async def _follow(self) -> None:
        async for recorded in self.store.subscribe(self.workspace.seq):
            try:
                evolve(self.workspace, recorded)
            except Exception:
                # A fold that fails is a bug; the log is still right, so keep serving and
                # leave the event to a rebuild rather than stop every client's updates.
                log.exception("folding seq %s failed", recorded.seq)
                self.workspace.seq = recorded.seq
            for listener in self.listeners:
                try:
                    listener(recorded, self.workspace)
                except Exception:
                    log.exception("listener failed on seq %s", recorded.seq)
            advanced, self._advanced = self._advanced, asyncio.Event()
            advanced.set()
            now = time.monotonic()
            if now >= self._next_freeze_check:
                self._next_freeze_check = now + FREEZE_CHECK_SECONDS
                freeze_if_grown()

    async def wait_for(self, seq: int) -> None:
        """Returns once every event up to `seq` is folded in."""
        async with asyncio.timeout(FOLD_WAIT_SECONDS):
            while self.workspace.seq < seq:
                await self._advanced.wait()

    def project(self, project_id: str) -> ProjectState:
        project = self.workspace.projects.get(project_id)
        if project is None:
            raise NotFound(f"project {project_id} does not exist", field="project")
        return project

    async def save_checkpoint(self) -> None:
        """Saves the model so the next start folds only what came after."""
        if self.workspace.seq != self._saved_seq:
            seq = self.workspace.seq
            await self.checkpoints.save_checkpoint("workspace", seq, snapshot(self.workspace))
            self._saved_seq = seq

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def freeze_if_grown(limit: int = FREEZE_AFTER_OBJECTS) -> bool:
    """Collects and freezes the oldest unfrozen objects once there are `limit` of them."""
    if len(gc.get_objects(generation=2)) < limit:
        return False
    gc.collect()
    gc.freeze()
    return True
