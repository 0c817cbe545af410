"""The assistant tests' log: projects built through real appends, as the web server makes them.

`Lab` creates a project in a SQLite log with its media in a MediaStore, and labels items the
way the write path records it (page assigned, gestures, page submitted). Data is made here:
scikit-learn's digits (in its wheel) as PNGs, synthetic topic texts, template NER sentences.
"""

import asyncio
import io
import random
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_limits  # comes with scikit-learn

from events.annotation import PrelabelApplied, SpanTagged, TagApplied
from events.base import ProjectType
from events.envelope import NewEvent, Recorded
from events.project import ImportedItem, ItemsImported, ProjectCreated, TagsDefined, TagSpec
from events.projections.workspace import ProjectState
from events.queue import PageAssigned, PageSubmitted, SessionOpened
from events.sqlite_store import SQLiteStore
from events.vocabulary import AnyEvent
from server.assist.rounds import AssistSettings
from server.assist.worker import Worker
from server.media.storage import MediaStore
from tests.models.ner_data import sentences

LEASE = 4_000_000_000.0
TOPICS = {
    "sports": ["match", "goal", "team", "coach", "season", "score", "league", "keeper"],
    "weather": ["rain", "snow", "storm", "wind", "forecast", "cloud", "sunny", "fog"],
    "food": ["bread", "cheese", "soup", "recipe", "bake", "spice", "dinner", "sauce"],
}
FILLER = ["the", "a", "of", "and", "today", "it", "was", "very", "we", "saw", "some", "new", "this"]


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread() -> Iterator[None]:
    """As the worker runs (OPENBLAS_NUM_THREADS=1): threaded BLAS is many times slower here."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def digit_pngs(count: int) -> list[tuple[str, bytes, str]]:
    """(item id, PNG, true digit) of the first `count` digits, as 32×32 grey images."""
    digits = load_digits()
    out = []
    for index in range(count):
        pixels = np.round(digits.images[index] * (255 / 16)).astype(np.uint8)
        big = np.kron(pixels, np.ones((4, 4), dtype=np.uint8))
        out.append((f"d{index:04d}", png(big), str(digits.target[index])))
    return out


def topic_texts(count: int, seed: int = 0) -> list[tuple[str, str, str]]:
    """(item id, text, topic): a few topic words among filler words."""
    rng = random.Random(seed)
    out = []
    for index in range(count):
        topic = rng.choice(sorted(TOPICS))
        words = rng.sample(TOPICS[topic], 3) + rng.sample(FILLER, 4)
        rng.shuffle(words)
        out.append((f"t{index:04d}", " ".join(words), topic))
    return out


def ner_texts(count: int) -> list[tuple[str, str, list[tuple[int, int, str]]]]:
    return [
        (f"s{index:04d}", text, [(s.start, s.end, s.tag) for s in spans])
        for index, (text, spans) in enumerate(sentences(count, seed=3))
    ]


class Lab:
    """A project in a log, and labelers who label it."""

    def __init__(self, store: SQLiteStore, media: MediaStore, project: str = "p") -> None:
        self.store = store
        self.media = media
        self.project = project
        self.truth: dict[str, str] = {}

    async def add(self, stream: str, *events: AnyEvent, actor: str = "admin") -> list[Recorded]:
        news = [NewEvent(event_id=uuid.uuid4().hex, event=e, actor=actor) for e in events]
        return await self.store.append(stream, news, await self.store.stream_version(stream))

    async def create(
        self,
        project_type: ProjectType,
        tags: Sequence[str],
        *,
        page_size: int = 9,
        target: float = 0.95,
    ) -> None:
        created = ProjectCreated(
            project_id=self.project,
            name=self.project.title(),
            project_type=project_type,
            page_size=page_size,
            target_precision=target,
        )
        spec = [TagSpec(name=t, colour="#336699") for t in tags]
        await self.add(f"project-{self.project}", created, TagsDefined(tags=spec))

    async def images(self, data: Sequence[tuple[str, bytes, str]]) -> None:
        items = []
        for item_id, blob, truth in data:
            digest = self.media.put(blob)
            items.append(
                ImportedItem(
                    item_id=item_id, kind="image", content_hash=digest, size_bytes=len(blob)
                )
            )
            self.truth[item_id] = truth
        await self.add(f"project-{self.project}", ItemsImported(items=items))

    async def texts(self, data: Sequence[tuple[str, str, object]]) -> None:
        items = [
            ImportedItem(
                item_id=item_id, kind="text", content_hash="0" * 64, size_bytes=len(text), text=text
            )
            for item_id, text, _ in data
        ]
        for item_id, _, truth in data:
            self.truth[item_id] = str(truth)
        await self.add(f"project-{self.project}", ItemsImported(items=items))

    async def label(
        self,
        answers: Sequence[tuple[str, Sequence[AnyEvent]]],
        labeler: str = "ann",
    ) -> None:
        """Each item gets its gestures, then the pages are submitted (20 items a page)."""
        session = f"s-{labeler}"
        queue = f"queue-{self.project}"
        if await self.store.stream_version(queue) == 0:
            await self.add(
                queue, SessionOpened(session_id=session, user=labeler, lease_until=LEASE)
            )
        for start in range(0, len(answers), 20):
            page = answers[start : start + 20]
            ids = [item for item, _ in page]
            await self.add(
                queue,
                PageAssigned(session_id=session, labeler=labeler, items=ids, lease_until=LEASE),
                actor=labeler,
            )
            await asyncio.gather(
                *(
                    self.add(f"item-{self.project}-{item}", *gestures, actor=labeler)
                    for item, gestures in page
                )
            )
            await self.add(
                queue, PageSubmitted(session_id=session, labeler=labeler, items=ids), actor=labeler
            )

    async def label_truly(self, items: Sequence[str], labeler: str = "ann") -> None:
        """Labels items with their true tag (classification)."""
        await self.label([(i, [TagApplied(tag=self.truth[i])]) for i in items], labeler)

    async def label_spans(
        self, data: Sequence[tuple[str, str, list[tuple[int, int, str]]]], labeler: str = "ann"
    ) -> None:
        await self.label(
            [
                (
                    item,
                    [
                        SpanTagged(span_id=f"{item}-{n}", tag=tag, start=start, end=end)
                        for n, (start, end, tag) in enumerate(spans)
                    ],
                )
                for item, _, spans in data
            ],
            labeler,
        )

    async def take_proposal(
        self, item: str, proposal_event_id: str, then: Sequence[AnyEvent] = (), labeler: str = "ann"
    ) -> None:
        """A labeler starts from the assistant's proposal, maybe corrects it, and submits."""
        await self.label(
            [(item, [PrelabelApplied(proposal_event_id=proposal_event_id), *then])], labeler
        )

    async def events(self, kind: type) -> list[Recorded]:
        out: list[Recorded] = []
        after = 0
        while batch := await self.store.read_all(after, 1000):
            out += [r for r in batch if isinstance(r.event, kind)]
            after = batch[-1].seq
        return out


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = await SQLiteStore.open(tmp_path / "log.db", watch_interval=0.02)
    yield opened
    await opened.close()


@pytest.fixture
def media(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media")


@pytest.fixture
def lab(store: SQLiteStore, media: MediaStore) -> Lab:
    return Lab(store, media)


SETTINGS = AssistSettings(first_round=50, growth=1.25, settle_seconds=0.01)


@pytest.fixture
async def worker(store: SQLiteStore, media: MediaStore) -> AsyncIterator[Worker]:
    started = Worker(store, media, SETTINGS)
    await started.start()
    yield started
    await started.stop()


def project_of(worker: Worker, project: str = "p") -> ProjectState:
    return worker.workspace.projects[project]
