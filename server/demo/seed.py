"""Fills a database with demo users and one project of every type, through the write path."""

from collections.abc import Iterable
from dataclasses import dataclass

from events.base import ProjectType
from events.project import ProjectCreated, ProjectEvent, Role, TagSpec
from events.projections.workspace import ProjectState
from server.app import open_stores
from server.commands import Commands
from server.decide import projects as rules
from server.demo import data
from server.live import LiveModel
from server.media.ingest import ingest
from server.media.limits import IngestLimits
from server.media.storage import MediaStore
from server.settings import Settings

PALETTE = [
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#bfef45",
    "#469990",
    "#9a6324",
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: Role
    is_admin: bool = False


USERS = [
    DemoUser("admin", "admin-demo-password", "admin", is_admin=True),
    DemoUser("ann", "ann-demo-password", "labeler"),
    DemoUser("bob", "bob-demo-password", "labeler"),
    DemoUser("audrey", "audrey-demo-password", "auditor"),
]


@dataclass(frozen=True)
class DemoProject:
    project_id: str
    name: str
    project_type: ProjectType
    tags: tuple[str, ...]
    instructions: str
    files: tuple[tuple[str, bytes], ...]
    page_size: int = 9


def tags(names: Iterable[str]) -> list[TagSpec]:
    return [TagSpec(name=n, colour=PALETTE[i % len(PALETTE)]) for i, n in enumerate(names)]


def projects() -> list[DemoProject]:
    scenes = tuple(data.shape_images(30))
    texts = [text for text, _ in data.NEWS]
    return [
        DemoProject(
            "digits",
            "Handwritten digits",
            "image_multiclass",
            tuple(str(d) for d in range(10)),
            "# Which digit is it?\n\nPick the **one** digit each image shows "
            "(keys 1-9; 0 via its chip).\n\nAfter 50 labels the assistant (`annolog assist`) "
            "puts similar digits on one page; a few rounds later it proposes digits to confirm "
            "or correct.",
            tuple(data.digit_images(300)),
        ),
        DemoProject(
            "shapes",
            "Shapes in a scene",
            "image_multilabel",
            data.SHAPES,
            "# Which shapes appear?\n\nTag **every** kind of shape the scene contains.",
            scenes,
        ),
        DemoProject(
            "boxes",
            "Box the shapes",
            "bounding_boxes",
            data.SHAPES,
            "# Draw a box around each shape\n\nPick a tag, press **R** and drag. "
            "**T** places a template box.",
            scenes,
            page_size=1,
        ),
        DemoProject(
            "outlines",
            "Outline the shapes",
            "polygons",
            data.SHAPES,
            "# Outline each shape\n\nPress **P**, click the corners, double-click to close.",
            scenes,
            page_size=1,
        ),
        DemoProject(
            "masks",
            "Paint the shapes",
            "semantic_segmentation",
            data.SHAPES,
            "# Paint each shape with its tag\n\nUse the brush (B) and the eraser (E).",
            scenes,
            page_size=1,
        ),
        DemoProject(
            "news",
            "News topics",
            "text_multiclass",
            ("sports", "weather", "technology", "food"),
            "# What is the story about?\n\nOne topic per text.",
            (("news.jsonl", data.jsonl(texts)),),
        ),
        DemoProject(
            "support",
            "Support messages",
            "text_multilabel",
            data.MESSAGE_TAGS,
            "# Tag each message\n\nA message can be a question *and* urgent.",
            (("messages.jsonl", data.jsonl(data.MESSAGES)),),
        ),
        DemoProject(
            "people",
            "People, places, organisations",
            "ner",
            ("PERSON", "PLACE", "ORG"),
            "# Mark the names\n\nDouble-click a word or drag over several words, "
            "then pick the tag.",
            (("sentences.jsonl", data.jsonl(data.ner_sentences(40))),),
            page_size=1,
        ),
        DemoProject(
            "scans",
            "CT, MR and X-ray",
            "bounding_boxes",
            ("lesion", "organ", "artefact"),
            "# Box the findings\n\nRight-drag (or press **W** and drag) to change "
            "window/level: sideways for width, up and down for level; presets are in the toolbar.",
            tuple(data.dicom_files()),
            page_size=1,
        ),
    ]


async def seed(settings: Settings) -> list[DemoUser]:
    """Creates what is missing of the demo (users, projects, items); safe to run again."""
    store, users = await open_stores(settings)
    live = LiveModel(store, store)
    await live.start()
    commands = Commands(store, live)
    media = MediaStore(settings.media_dir)
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    try:
        for user in USERS:
            if await users.get(user.username) is None:
                await users.add_user(
                    user.username,
                    user.password,
                    display_name=user.username.title(),
                    is_admin=user.is_admin,
                )
        for spec in projects():
            if spec.project_id not in live.workspace.projects:
                await _create(commands, live, media, spec)
        await live.save_checkpoint()
    finally:
        await live.stop()
        await store.close()
        await users.close()
    return USERS


async def _create(
    commands: Commands, live: LiveModel, media: MediaStore, spec: DemoProject
) -> None:
    created = ProjectCreated(
        project_id=spec.project_id,
        name=spec.name,
        project_type=spec.project_type,
        instructions=spec.instructions,
        page_size=spec.page_size,
        lease_seconds=300,
    )
    await commands.project_events(
        spec.project_id,
        "admin",
        "demo",
        lambda _: rules.create_project(live.workspace, created, tags(spec.tags), "admin"),
    )
    for user in USERS[1:]:

        def add(project: ProjectState | None, member: DemoUser = user) -> list[ProjectEvent]:
            return rules.add_member(project, member.username, member.role) if project else []

        await commands.project_events(spec.project_id, "admin", "demo", add)
    accepted = []
    for name, blob in spec.files:
        result = ingest(name, blob, limits=IngestLimits())
        for item in result.items:
            if item.data is not None:
                media.put(item.data)
        accepted += result.items
    await commands.project_events(
        spec.project_id,
        "admin",
        "demo",
        lambda p: rules.import_items(p, [a.item() for a in accepted])[0] if p else [],
    )
