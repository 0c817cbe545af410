"""What the worker writes to the log: rounds, proposals, clustered pages, disabled models.

It appends with `store.append`, like the web server: on SQLite both processes append to one
file, and the store re-reads versions and the last seq inside its write transaction whenever
another process committed (see events/sqlite_store.py), so an append of the worker's and one
of the web's never clash. A stale expected version is retried at the version the store
reports. Every event id is derived from what it records (project, round, model, item), so an
append repeated after a crash writes nothing.
"""

import asyncio
import logging
import math
from collections.abc import Sequence

from events.assist import AssistantDisabled, ItemsClustered, ModelTrained, PrelabelProposed
from events.envelope import NewEvent, Recorded
from events.errors import ConcurrencyError, DuplicateEventError, EventLogError
from events.projections.workspace import ProjectState
from events.streams import assist_stream, item_stream
from events.vocabulary import AnyEvent
from server.assist.follower import LogFollower
from server.assist.learn import RoundJob, RoundResult
from server.assist.rounds import (
    clustered_id,
    disabled_id,
    model_trained_id,
    proposal_id,
    unfinished_round,
)
from server.media.storage import MediaStore

log = logging.getLogger("annolog.assist")
ACTOR = "assistant"
RETRIES = 5
APPEND_CHUNK = 500


class Publisher:
    """Appends the assistant's events and waits until the worker has folded them."""

    def __init__(self, follower: LogFollower, media: MediaStore) -> None:
        self.follower = follower
        self.store = follower.store
        self.media = media

    async def record_round(self, project_id: str, job: RoundJob, result: RoundResult) -> bool:
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
            if not await self.append_one(
                assist_stream(project_id), model_trained_id(project_id, job.round), trained
            ):
                return False
        await self.propose(project_id, result.proposals)
        clustered = ItemsClustered(round=job.round, clusters=result.pages)
        await self.append_one(
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
        project = self.follower.workspace.projects.get(project_id)
        return (
            project is not None
            and unfinished_round(project) is None
            and any(m.round == job.round for m in project.models)
        )

    async def disable(
        self, project_id: str, project: ProjectState, model_hash: str, error: str
    ) -> None:
        """Records that an admin's model failed, with the error the admin is shown."""
        log.error("%s: model %s disabled: %s", project_id, model_hash[:12], error)
        event = AssistantDisabled(model_hash=model_hash, error=error[:4000])
        await self.append_one(
            assist_stream(project_id),
            disabled_id(project_id, model_hash, project.assist_version),
            event,
        )

    async def append_one(self, stream: str, event_id: str, event: AnyEvent) -> bool:
        """Appends one event (or finds it already there); False when the log refused it."""
        recorded = await self.append(stream, NewEvent(event_id=event_id, event=event, actor=ACTOR))
        if recorded:
            await self.follower.wait_for(recorded[-1].seq)
        return bool(recorded)

    async def propose(
        self, project_id: str, proposals: Sequence[tuple[str, PrelabelProposed]]
    ) -> None:
        """Appends proposals (one per item stream), many appends per group commit."""
        last = 0
        for start in range(0, len(proposals), APPEND_CHUNK):
            chunk = proposals[start : start + APPEND_CHUNK]
            results = await asyncio.gather(
                *(
                    self.append(
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
            await self.follower.wait_for(last)

    async def append(self, stream: str, new: NewEvent) -> list[Recorded] | None:
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
