"""A round of the worker's own model, trained or finished in a thread off the event loop.

A round is trained when the project's labels reach `next_round_at`; a recorded round whose
proposals and clusters are missing (the worker stopped midway) is finished with the model it
stored. Either may fail: labels that cannot train yet are tried again when their count
changes, and a round that cannot be finished is not tried again by this process.
"""

import asyncio
import dataclasses
import logging

from events.assist import ModelTrained
from events.projections.workspace import ProjectState
from models.errors import ModelError
from models.feature_cache import FeatureCache
from server.assist.items import ItemReader
from server.assist.learn import Featurizer, NotReady, RoundJob, RoundResult, run_round
from server.assist.rounds import (
    AssistSettings,
    labeled,
    labels_of,
    last_round,
    latest_proposals,
    next_round_at,
    unlabeled,
)
from server.media.errors import MediaError
from server.media.storage import MediaStore

log = logging.getLogger("annolog.assist")

Round = tuple[RoundJob, RoundResult]


class RoundTrainer:
    """Trains and finishes rounds, and remembers which ones cannot be done yet."""

    def __init__(
        self,
        settings: AssistSettings,
        media: MediaStore,
        reader: ItemReader,
        cache: FeatureCache | None = None,
    ) -> None:
        self.settings = settings
        self.media = media
        self.features = Featurizer(reader, cache)
        # project -> the label count at which training last could not go on
        self._not_ready: dict[str, int] = {}
        self._stuck: set[tuple[str, int]] = set()

    def due(self, project_id: str, project: ProjectState) -> int | None:
        """The project's label count when a round should train now, else None."""
        due = next_round_at(self.settings, project)
        labels = labels_of(project)
        if due is None or labels < due or self._not_ready.get(project_id) == labels:
            return None
        return labels

    def can_finish(self, project_id: str, trained: ModelTrained) -> bool:
        return (project_id, trained.round) not in self._stuck

    def wait_for_labels(self, project_id: str, labels: int) -> None:
        """No round for this project until its label count moves off `labels`."""
        self._not_ready[project_id] = labels

    def give_up(self, project_id: str, trained: ModelTrained) -> None:
        """This process will not try to finish the round again."""
        self._stuck.add((project_id, trained.round))

    def job(self, project_id: str, project: ProjectState, round_number: int) -> RoundJob:
        """What a round of this number works on: the labels and the pool as of now."""
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

    async def train(self, project_id: str, project: ProjectState, labels: int) -> Round | None:
        """A new round on the project's labels; None when it cannot train on them."""
        # Rounds count on from the latest, the admin's models' included.
        round_number = last_round(project) + 1
        job = self.job(project_id, project, round_number)
        log.info("%s: round %s on %s labels", project_id, round_number, labels)
        try:
            result = await asyncio.to_thread(run_round, job, self.features)
        except NotReady as exc:
            log.info("%s: round %s waits for more labels: %s", project_id, round_number, exc)
            self.wait_for_labels(project_id, labels)
            return None
        except Exception:
            log.exception(
                "%s: round %s failed; trying again with more labels", project_id, round_number
            )
            self.wait_for_labels(project_id, labels)
            return None
        return job, result

    async def finish(
        self, project_id: str, project: ProjectState, trained: ModelTrained
    ) -> Round | None:
        """The recorded round's proposals and pages, made again with its stored model; None
        when it cannot be finished."""
        log.info("%s: finishing round %s", project_id, trained.round)
        try:
            data = await asyncio.to_thread(self.media.read, trained.model_hash)
            met = trained.metrics.get("threshold_met", 1.0) > 0
            job = dataclasses.replace(
                self.job(project_id, project, trained.round),
                model=data,
                threshold=trained.threshold if met else None,
                labels_used=trained.labels_used,
                labeled=[],
            )
            result = await asyncio.to_thread(run_round, job, self.features)
        except (MediaError, ModelError, NotReady, ValueError) as exc:
            log.error("%s: round %s cannot be finished: %s", project_id, trained.round, exc)
            self.give_up(project_id, trained)
            return None
        return job, result
