"""The assistant worker: follows the log and, when a project needs it, trains and proposes.

It is a process of its own (`annolog assist`, the Procfile's `assist`) on the same log as the
web server: `LogFollower` keeps its copy of the workspace, `Publisher` writes its events.

What to do is decided from the projection alone, one piece of work at a time:
1. a recorded round whose proposals and clusters are missing (the worker stopped midway) is
   finished with the model it stored (`RoundTrainer.finish`);
2. an admin's model, while one is registered and not disabled, runs over the next items
   (`UserModelRunner`);
3. otherwise a round trains when the project's labels reach `next_round_at`
   (`RoundTrainer.train`).
Heavy work runs in a thread so the log keeps being folded meanwhile.

The checkpoint is the folded workspace and its seq (every `checkpoint_seconds` and on exit)
plus, saved after every step, how far each user model got through its project's items.
"""

import asyncio
import contextlib
import time

from events.assist import ModelTrained
from events.errors import EventLogError
from events.projections.workspace import ProjectState, Workspace
from models.feature_cache import FeatureCache
from server.assist.follower import LogFollower, Store
from server.assist.items import ItemReader
from server.assist.publisher import Publisher
from server.assist.rounds import AssistSettings, active_user_model_hash, unfinished_round
from server.assist.trainer import RoundTrainer
from server.assist.user_runner import UserModelFailed, UserModelRunner
from server.media.storage import MediaStore


class Worker:
    """The assistant of every project in one log."""

    def __init__(
        self,
        store: Store,
        media: MediaStore,
        settings: AssistSettings | None = None,
        *,
        cache: FeatureCache | None = None,
    ) -> None:
        self.store = store
        self.settings = settings or AssistSettings()
        reader = ItemReader(media)
        self.follower = LogFollower(store)
        self.publisher = Publisher(self.follower, media)
        self.trainer = RoundTrainer(self.settings, media, reader, cache)
        self.user_models = UserModelRunner(self.settings, media, reader)

    @property
    def workspace(self) -> Workspace:
        return self.follower.workspace

    async def start(self) -> None:
        """Restores the checkpoints, folds what came after, then follows the log live."""
        await self.user_models.load_cursors(self.store)
        await self.follower.start()

    async def wait_for(self, seq: int) -> None:
        """Returns once every event up to `seq` is folded in."""
        await self.follower.wait_for(seq)

    async def stop(self) -> None:
        await self.follower.stop()
        with contextlib.suppress(EventLogError):
            await self.follower.save_checkpoint()

    async def run(self) -> None:
        """Works until cancelled; saves its checkpoint on the way out."""
        await self.start()
        try:
            while True:
                if not await self.step():
                    await self.follower.wait_for_news(self.settings.checkpoint_seconds)
                    # Lets a burst of events settle before looking for work again.
                    await asyncio.sleep(self.settings.settle_seconds)
                if time.monotonic() - self.follower.saved_at >= self.settings.checkpoint_seconds:
                    await self.follower.save_checkpoint()
        finally:
            await self.stop()

    async def step(self) -> bool:
        """Does the first piece of work a project needs; False when none needs any."""
        for project_id in sorted(self.workspace.projects):
            if await self._project_step(project_id, self.workspace.projects[project_id]):
                return True
        return False

    async def run_until_idle(self, limit: int = 100) -> int:
        """Steps until there is nothing left to do (for tests and one-off runs)."""
        for done in range(limit):
            await self.wait_for(await self.store.last_seq())
            if not await self.step():
                return done
        raise RuntimeError(f"still busy after {limit} steps")

    async def _project_step(self, project_id: str, project: ProjectState) -> bool:
        unfinished = unfinished_round(project)
        if unfinished is not None and self.trainer.can_finish(project_id, unfinished):
            await self._finish_round(project_id, project, unfinished)
            return True
        user_hash = active_user_model_hash(project)
        if user_hash is not None:
            # While an admin's model is in use the worker does not train its own.
            return await self._user_step(project_id, project, user_hash)
        labels = self.trainer.due(project_id, project)
        if labels is not None:
            await self._train(project_id, project, labels)
            return True
        return False

    async def _train(self, project_id: str, project: ProjectState, labels: int) -> None:
        made = await self.trainer.train(project_id, project, labels)
        if made is not None and not await self.publisher.record_round(project_id, *made):
            # The log refused the round (logged): not again until the labels change.
            self.trainer.wait_for_labels(project_id, labels)

    async def _finish_round(
        self, project_id: str, project: ProjectState, trained: ModelTrained
    ) -> None:
        made = await self.trainer.finish(project_id, project, trained)
        if made is not None and not await self.publisher.record_round(project_id, *made):
            self.trainer.give_up(project_id, trained)

    async def _user_step(self, project_id: str, project: ProjectState, model_hash: str) -> bool:
        try:
            step = await self.user_models.step(project_id, project, model_hash)
        except UserModelFailed as exc:
            self.user_models.forget(model_hash)
            await self.publisher.disable(project_id, project, model_hash, exc.reason)
            return True
        if step is None:
            return False
        await self.publisher.propose(project_id, step.proposals)
        self.user_models.advance(project_id, model_hash, step)
        await self.user_models.save_cursors(self.store, self.workspace.seq)
        return True
