"""An admin's model stepped through its project's items, a chunk at a time, in a thread.

How far each model got through each project's items (import order) is a checkpoint of its
own, saved after every step, so a restarted worker resumes there instead of starting over.
Loaded models are kept by hash for the next chunk.
"""

import asyncio
import contextlib
from dataclasses import dataclass

import msgspec

from events.assist import PrelabelProposed
from events.projections.workspace import ProjectState
from events.store import CheckpointStore
from models.user_models import UserModel
from server.assist.items import ItemReader
from server.assist.rounds import AssistSettings, latest_proposals
from server.assist.user import UserJob, load, run_user_model
from server.media.errors import MediaError
from server.media.storage import MediaStore

CURSORS = "assist-user-models"


class UserModelFailed(Exception):
    """The admin's model cannot be used; `reason` is what the admin is shown."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class UserStep:
    """One chunk's proposals, and how far through the project's items the model now is."""

    proposals: list[tuple[str, PrelabelProposed]]
    done: int


class UserModelRunner:
    """Runs admins' models over their projects' items and keeps how far each got."""

    def __init__(self, settings: AssistSettings, media: MediaStore, reader: ItemReader) -> None:
        self.settings = settings
        self.media = media
        self.reader = reader
        # project -> user model hash -> how many of the project's items (import order) it ran over
        self.cursors: dict[str, dict[str, int]] = {}
        self._models: dict[str, UserModel] = {}

    async def load_cursors(self, store: CheckpointStore) -> None:
        saved = await store.load_checkpoint(CURSORS)
        if saved is not None:
            # Unreadable cursors only cost a rerun over items already proposed for.
            with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
                self.cursors = msgspec.msgpack.decode(saved[1], type=dict[str, dict[str, int]])

    async def save_cursors(self, store: CheckpointStore, seq: int) -> None:
        await store.save_checkpoint(CURSORS, seq, msgspec.msgpack.encode(self.cursors))

    def advance(self, project_id: str, model_hash: str, step: UserStep) -> None:
        self.cursors.setdefault(project_id, {})[model_hash] = step.done

    def forget(self, model_hash: str) -> None:
        """Drops a loaded model (it failed; a registration again loads it afresh)."""
        self._models.pop(model_hash, None)

    async def step(
        self, project_id: str, project: ProjectState, model_hash: str
    ) -> UserStep | None:
        """The model's proposals for the project's next chunk of items; None when it has run
        over them all. Raises UserModelFailed when the model cannot be used."""
        registration = project.user_model
        assert registration is not None
        done = self.cursors.get(project_id, {}).get(model_hash, 0)
        items = list(project.items.values())[done : done + self.settings.user_chunk]
        if not items:
            return None
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
            model = self._models.get(model_hash)
            if model is None:
                data = await asyncio.to_thread(self.media.read, model_hash)
                model = self._models[model_hash] = await asyncio.to_thread(load, registration, data)
            proposals, _ = await asyncio.to_thread(run_user_model, job, model, self.reader)
        except MediaError as exc:
            raise UserModelFailed(f"the model file is missing: {exc.message}") from exc
        except Exception as exc:
            # A user model may fail in any way (InferenceError, an output off its contract,
            # a bug in its graph): it is disabled, and labeling goes on manually.
            raise UserModelFailed(str(exc) or type(exc).__name__) from exc
        return UserStep(proposals, done + len(items))
