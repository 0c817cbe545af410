"""A tiny in-memory log for projection tests: builds envelopes and folds them, no store."""

from itertools import count

from events.codec import decode_recorded, encode
from events.envelope import Recorded
from events.project import (
    ImportedItem,
    ItemsImported,
    ProjectCreated,
    TagsDefined,
    TagSpec,
)
from events.projections.workspace import ProjectState, Workspace, evolve
from events.queue import PageAssigned, PageSubmitted, SessionOpened
from events.vocabulary import AnyEvent

HASH = "ab" * 32
TAGS = ["cat", "dog", "bird"]


class Log:
    """Records events as a store would (seq, versions, stamps) and folds them as they come."""

    def __init__(self, project_type: str, project: str = "p", overlap: int = 1) -> None:
        self.project = project
        self.workspace = Workspace()
        self.events: list[Recorded] = []
        self._ids = count(1)
        self._versions: dict[str, int] = {}
        self.now = 1_800_000_000.0
        self.add(
            f"project-{project}",
            ProjectCreated(
                project_id=project, name="P", project_type=project_type, overlap=overlap
            ),  # type: ignore[arg-type]
        )
        self.add(
            f"project-{project}",
            TagsDefined(
                tags=[TagSpec(name=t, colour="#112233", key=i + 1) for i, t in enumerate(TAGS)]
            ),
        )

    @property
    def state(self) -> ProjectState:
        return self.workspace.projects[self.project]

    def add(self, stream: str, event: AnyEvent, actor: str = "admin", session: str = "s") -> str:
        number = next(self._ids)
        event_id = f"e{number}"
        version = self._versions[stream] = self._versions.get(stream, 0) + 1
        self.now += 1.0
        recorded = Recorded(
            seq=number,
            stream=stream,
            version=version,
            event_id=event_id,
            actor=actor,
            session=session,
            at=self.now,
            event=event,
        )
        # As a store does: what is folded is what decoding the stored bytes gives.
        recorded = decode_recorded(encode(recorded))
        self.events.append(recorded)
        evolve(self.workspace, recorded)
        return event_id

    def items(self, *ids: str, kind: str = "image", text: str | None = None) -> None:
        self.add(
            f"project-{self.project}",
            ItemsImported(
                items=[
                    ImportedItem(
                        item_id=i,
                        kind=kind,
                        content_hash=HASH,
                        size_bytes=10,  # type: ignore[arg-type]
                        width=10,
                        height=10,
                        text=text,
                    )
                    for i in ids
                ]
            ),
        )

    def on(self, item: str, event: AnyEvent, labeler: str = "ann") -> str:
        return self.add(f"item-{self.project}-{item}", event, actor=labeler)

    def queue(self, event: AnyEvent, labeler: str = "ann") -> str:
        return self.add(f"queue-{self.project}", event, actor=labeler)

    def submit(self, labeler: str, *items: str) -> None:
        session = f"sess-{labeler}-{self.now:.0f}"
        self.queue(
            SessionOpened(session_id=session, user=labeler, lease_until=self.now + 600), labeler
        )
        self.queue(
            PageAssigned(
                session_id=session, labeler=labeler, items=list(items), lease_until=self.now + 600
            ),
            labeler,
        )
        self.queue(PageSubmitted(session_id=session, labeler=labeler, items=list(items)), labeler)
