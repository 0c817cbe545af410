"""The assistant worker: follows the log and, when a project needs it, trains and proposes.

It is a process of its own (`annolog assist`, the Procfile's `assist`) on the same log as the
web server. It reads by subscribing to the store and folding every event into its own copy of
the workspace projection; it writes with `store.append`, like the web server: on SQLite both
processes append to one file, and the store re-reads versions and the last seq inside its
write transaction whenever another process committed (see events/sqlite_store.py), so an
append of the worker's and one of the web's never clash. A stale expected version is retried
at the version the store reports.

What to do is decided from the projection alone, one piece of work at a time:
1. a recorded round whose proposals and clusters are missing (the worker stopped midway) is
   finished with the model it stored;
2. an admin's model, while one is registered and not disabled, runs over the next items;
3. otherwise a round trains when the project's labels reach `next_round_at`.
Heavy work runs in a thread so the log keeps being folded meanwhile.

Every event id is derived from what it records (project, round, model, item), so an append
repeated after a crash writes nothing. The checkpoint is the folded workspace and its seq
(every `checkpoint_seconds` and on exit) plus, saved after every step, how far each user
model got through its project's items: a restart resumes there instead of starting over.
"""

import asyncio
import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Sequence
from typing import Protocol

import msgspec

from events.assist import (
    AssistantDisabled,
    ItemsClustered,
    ModelTrained,
    PrelabelProposed,
)
from events.envelope import NewEvent, Recorded
from events.errors import ConcurrencyError, DuplicateEventError, EventLogError
from events.projections.replay import fold_log
from events.projections.workspace import ProjectState, Workspace, evolve, restore, snapshot
from events.store import CheckpointStore, EventStore
from events.streams import assist_stream, item_stream
from events.vocabulary import AnyEvent
from models.errors import ModelError
from models.feature_cache import FeatureCache
from models.user_models import UserModel
from server.assist.items import ItemReader
from server.assist.learn import Featurizer, NotReady, RoundJob, RoundResult, run_round
from server.assist.rounds import (
    AssistSettings,
    active_user_model_hash,
    clustered_id,
    disabled_id,
    labeled,
    labels_of,
    latest_proposals,
    model_trained_id,
    next_round_at,
    proposal_id,
    unfinished_round,
    unlabeled,
)
from server.assist.user import UserJob, load, run_user_model
from server.media.errors import MediaError
from server.media.storage import MediaStore

log = logging.getLogger("annolog.assist")
CHECKPOINT = "assist"
CURSORS = "assist-user-models"
ACTOR = "assistant"
RETRIES = 5
APPEND_CHUNK = 500
FOLD_WAIT_SECONDS = 30.0


class Store(EventStore, CheckpointStore, Protocol):
    """The log and the checkpoints the worker keeps in it."""


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
        self.media = media
        self.settings = settings or AssistSettings()
        self.reader = ItemReader(media)
        self.features = Featurizer(self.reader, cache)
        self.workspace = Workspace()
        # project -> user model hash -> how many of the project's items (import order) it ran over
        self.cursors: dict[str, dict[str, int]] = {}
        self._advanced = asyncio.Event()
        self._follower: asyncio.Task[None] | None = None
        self._not_ready: dict[str, int] = {}
        self._stuck: set[tuple[str, int]] = set()
        self._user_models: dict[str, UserModel] = {}
        self._saved_seq = -1
        self._saved_at = time.monotonic()

    # The log.

    async def start(self) -> None:
        """Restores the checkpoint, folds what came after, then follows the log live."""
        workspace = Workspace()
        saved = await self.store.load_checkpoint(CHECKPOINT)
        if saved is not None:
            try:
                workspace = restore(saved[1])
            except (msgspec.DecodeError, msgspec.ValidationError):
                log.warning("the assistant's checkpoint cannot be read; folding the whole log")
        cursors = await self.store.load_checkpoint(CURSORS)
        if cursors is not None:
            with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
                self.cursors = msgspec.msgpack.decode(cursors[1], type=dict[str, dict[str, int]])
        self.workspace = await fold_log(self.store, workspace)
        self._saved_seq = workspace.seq
        log.info(
            "assistant at seq %s, %s projects", self.workspace.seq, len(self.workspace.projects)
        )
        self._follower = asyncio.create_task(self._follow(), name="assist-follower")

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

    async def stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
            self._follower = None
        with contextlib.suppress(EventLogError):
            await self.save_checkpoint()

    async def save_checkpoint(self) -> None:
        if self.workspace.seq != self._saved_seq:
            seq = self.workspace.seq
            await self.store.save_checkpoint(CHECKPOINT, seq, snapshot(self.workspace))
            self._saved_seq = seq
        self._saved_at = time.monotonic()

    async def _save_cursors(self) -> None:
        await self.store.save_checkpoint(
            CURSORS, self.workspace.seq, msgspec.msgpack.encode(self.cursors)
        )

    # The loop.

    async def run(self) -> None:
        """Works until cancelled; saves its checkpoint on the way out."""
        await self.start()
        try:
            while True:
                if not await self.step():
                    await self._idle()
                if time.monotonic() - self._saved_at >= self.settings.checkpoint_seconds:
                    await self.save_checkpoint()
        finally:
            await self.stop()

    async def _idle(self) -> None:
        """Waits for the log to move (or for the checkpoint to be due), then lets it settle."""
        seq = self.workspace.seq
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.checkpoint_seconds):
                while self.workspace.seq == seq:
                    await self._advanced.wait()
        await asyncio.sleep(self.settings.settle_seconds)

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
        if unfinished is not None and (project_id, unfinished.round) not in self._stuck:
            await self._finish_round(project_id, project, unfinished)
            return True
        user_hash = active_user_model_hash(project)
        if user_hash is not None:
            # While an admin's model is in use the worker does not train its own.
            return await self._user_step(project_id, project, user_hash)
        due = next_round_at(self.settings, project)
        labels = labels_of(project)
        if due is not None and labels >= due and self._not_ready.get(project_id) != labels:
            await self._train(project_id, project, labels)
            return True
        return False

    # Rounds of the worker's own model.

    def _job(self, project_id: str, project: ProjectState, round_number: int) -> RoundJob:
        pool = unlabeled(project, self.settings.max_pool)
        return RoundJob(
            project=project_id,
            project_type=project.settings.project_type,
            round=round_number,
            tags=tuple(tag.name for tag in project.tags),
            target=project.settings.target_precision,
            page_size=project.settings.page_size,
            labels_used=labels_of(project),
            labeled=labeled(project),
            pool=pool,
            latest=latest_proposals(project, pool),
            max_clustered=self.settings.max_clustered,
        )

    async def _train(self, project_id: str, project: ProjectState, labels: int) -> None:
        round_number = (project.models[-1].round if project.models else 0) + 1
        job = self._job(project_id, project, round_number)
        log.info("%s: round %s on %s labels", project_id, round_number, labels)
        try:
            result = await asyncio.to_thread(run_round, job, self.features)
        except NotReady as exc:
            log.info("%s: round %s waits for more labels: %s", project_id, round_number, exc)
            self._not_ready[project_id] = labels
            return
        except Exception:
            log.exception(
                "%s: round %s failed; trying again with more labels", project_id, round_number
            )
            self._not_ready[project_id] = labels
            return
        if not await self._record(project_id, job, result):
            # The log refused the round (logged): not again until the labels change.
            self._not_ready[project_id] = labels

    async def _finish_round(
        self, project_id: str, project: ProjectState, trained: ModelTrained
    ) -> None:
        log.info("%s: finishing round %s", project_id, trained.round)
        try:
            data = await asyncio.to_thread(self.media.read, trained.model_hash)
            met = trained.metrics.get("threshold_met", 1.0) > 0
            job = dataclasses.replace(
                self._job(project_id, project, trained.round),
                model=data,
                threshold=trained.threshold if met else None,
                labels_used=trained.labels_used,
                labeled=[],
            )
            result = await asyncio.to_thread(run_round, job, self.features)
        except (MediaError, ModelError, NotReady, ValueError) as exc:
            log.error("%s: round %s cannot be finished: %s", project_id, trained.round, exc)
            self._stuck.add((project_id, trained.round))
            return
        if not await self._record(project_id, job, result):
            self._stuck.add((project_id, trained.round))

    async def _record(self, project_id: str, job: RoundJob, result: RoundResult) -> bool:
        """Stores the model file, then appends the round, its proposals and its pages;
        whether the round is now recorded and closed."""
        if job.model is None:
            # Media first, then the log: a recorded hash always has its file.
            await asyncio.to_thread(self.media.put, result.model)
            trained = ModelTrained(
                round=job.round,
                labels_used=job.labels_used,
                classes=result.classes[:500],
                metrics={k: v for k, v in result.metrics.items() if math.isfinite(v)},
                threshold=1.0 if result.threshold is None else min(1.0, result.threshold),
                model_hash=result.model_hash,
            )
            if not await self._append_one(
                assist_stream(project_id), model_trained_id(project_id, job.round), trained
            ):
                return False
        await self._propose(project_id, result.proposals)
        clustered = ItemsClustered(round=job.round, clusters=result.pages)
        await self._append_one(
            assist_stream(project_id), clustered_id(project_id, job.round), clustered
        )
        log.info(
            "%s: round %s recorded: threshold %s, %s proposals, %s pages",
            project_id,
            job.round,
            result.threshold,
            len(result.proposals),
            len(result.pages),
        )
        project = self.workspace.projects.get(project_id)
        return (
            project is not None
            and unfinished_round(project) is None
            and any(m.round == job.round for m in project.models)
        )

    # An admin's own model.

    async def _user_step(self, project_id: str, project: ProjectState, model_hash: str) -> bool:
        registration = project.user_model
        assert registration is not None
        done = self.cursors.get(project_id, {}).get(model_hash, 0)
        items = list(project.items.values())[done : done + self.settings.user_chunk]
        if not items:
            return False
        todo = [item for item in items if not project.queue.submitted.get(item.item_id)]
        job = UserJob(
            project=project_id,
            project_type=project.settings.project_type,
            registration=registration,
            tags=frozenset(tag.name for tag in project.tags),
            items=todo,
            latest=latest_proposals(project, todo),
        )
        try:
            model = self._user_models.get(model_hash)
            if model is None:
                data = await asyncio.to_thread(self.media.read, model_hash)
                model = self._user_models[model_hash] = await asyncio.to_thread(
                    load, registration, data
                )
            proposals, _ = await asyncio.to_thread(run_user_model, job, model, self.reader)
        except MediaError as exc:
            await self._disable(
                project_id, project, model_hash, f"the model file is missing: {exc.message}"
            )
            return True
        except Exception as exc:
            # A user model may fail in any way (InferenceError, an output off its contract,
            # a bug in its graph): it is disabled, and labeling goes on manually.
            await self._disable(project_id, project, model_hash, str(exc) or type(exc).__name__)
            return True
        await self._propose(project_id, proposals)
        self.cursors.setdefault(project_id, {})[model_hash] = done + len(items)
        await self._save_cursors()
        return True

    async def _disable(
        self, project_id: str, project: ProjectState, model_hash: str, error: str
    ) -> None:
        log.error("%s: model %s disabled: %s", project_id, model_hash[:12], error)
        self._user_models.pop(model_hash, None)
        event = AssistantDisabled(model_hash=model_hash, error=error[:4000])
        await self._append_one(
            assist_stream(project_id),
            disabled_id(project_id, model_hash, project.assist_version),
            event,
        )

    # Appending.

    async def _append_one(self, stream: str, event_id: str, event: AnyEvent) -> bool:
        """Appends one event (or finds it already there); False when the log refused it."""
        recorded = await self._append(stream, NewEvent(event_id=event_id, event=event, actor=ACTOR))
        if recorded:
            await self.wait_for(recorded[-1].seq)
        return bool(recorded)

    async def _propose(
        self, project_id: str, proposals: Sequence[tuple[str, PrelabelProposed]]
    ) -> None:
        """Appends proposals (one per item stream), many appends per group commit."""
        last = 0
        for start in range(0, len(proposals), APPEND_CHUNK):
            chunk = proposals[start : start + APPEND_CHUNK]
            results = await asyncio.gather(
                *(
                    self._append(
                        item_stream(project_id, item),
                        NewEvent(
                            event_id=proposal_id(project_id, proposal.model_hash, item),
                            event=proposal,
                            actor=ACTOR,
                        ),
                    )
                    for item, proposal in chunk
                )
            )
            last = max([last, *(r[-1].seq for r in results if r)])
        if last:
            await self.wait_for(last)

    async def _append(self, stream: str, new: NewEvent) -> list[Recorded] | None:
        """Appends at the stream's version, retrying at the newer one another process made."""
        version = await self.store.stream_version(stream)
        for _ in range(RETRIES):
            try:
                return await self.store.append(stream, [new], version)
            except ConcurrencyError as exc:
                version = exc.actual
            except DuplicateEventError as exc:
                # The same id with other bytes: this model already proposed for the item.
                log.info("%s: %s", stream, exc)
                return None
            except EventLogError as exc:
                log.error("%s: append refused: %s", stream, exc)
                return None
        log.warning("%s keeps changing; gave up appending %s", stream, new.event_id)
        return None
