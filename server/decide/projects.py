"""Decisions of project administration: create, tags, instructions, members, items."""

from collections.abc import Sequence

from events.project import (
    ImportedItem,
    InstructionsUpdated,
    ItemsImported,
    MemberAdded,
    MemberRemoved,
    PatientIdentifiersShown,
    ProjectCreated,
    ProjectEvent,
    Role,
    TagsDefined,
    TagSpec,
)
from events.projections.workspace import ProjectState, Workspace
from server.errors import Conflict, NotFound, Unprocessable

IMPORT_BATCH = 1_000


def check_tags(tags: Sequence[TagSpec], field: str = "tags") -> None:
    """Tag names and number keys must each be unique."""
    names: set[str] = set()
    keys: set[int] = set()
    for index, tag in enumerate(tags):
        if tag.name in names:
            raise Unprocessable(f"tag {tag.name!r} appears twice", field=f"{field}[{index}].name")
        names.add(tag.name)
        if tag.key is not None:
            if tag.key in keys:
                raise Unprocessable(
                    f"key {tag.key} is given to two tags", field=f"{field}[{index}].key"
                )
            keys.add(tag.key)


def with_default_keys(tags: Sequence[TagSpec]) -> list[TagSpec]:
    """The first nine tags get number keys 1-9 when none were given."""
    if any(tag.key is not None for tag in tags):
        return list(tags)
    return [
        TagSpec(name=tag.name, colour=tag.colour, key=index + 1 if index < 9 else None)
        for index, tag in enumerate(tags)
    ]


def create_project(
    workspace: Workspace, created: ProjectCreated, tags: Sequence[TagSpec], creator: str
) -> list[ProjectEvent]:
    if created.project_id in workspace.projects:
        raise Conflict(f"project {created.project_id} already exists", field="project_id")
    check_tags(tags)
    events: list[ProjectEvent] = [created]
    if tags:
        events.append(TagsDefined(tags=with_default_keys(tags)))
    events.append(MemberAdded(user=creator, role="admin"))
    return events


def define_tags(tags: Sequence[TagSpec]) -> list[ProjectEvent]:
    if not tags:
        raise Unprocessable("a project needs at least one tag", field="tags")
    check_tags(tags)
    return [TagsDefined(tags=with_default_keys(tags))]


def update_instructions(text: str) -> list[ProjectEvent]:
    return [InstructionsUpdated(instructions=text)]


def show_patient_identifiers(project: ProjectState, shown: bool) -> list[ProjectEvent]:
    if project.settings.patient_identifiers_shown == shown:
        return []
    return [PatientIdentifiersShown(shown=shown)]


def add_member(project: ProjectState, user: str, role: Role) -> list[ProjectEvent]:
    if project.members.get(user) == role:
        return []
    return [MemberAdded(user=user, role=role)]


def remove_member(project: ProjectState, user: str) -> list[ProjectEvent]:
    if user not in project.members:
        raise NotFound(f"{user} is not a member of this project", field="user")
    return [MemberRemoved(user=user)]


def import_items(
    project: ProjectState, items: Sequence[ImportedItem]
) -> tuple[list[ProjectEvent], list[str]]:
    """ItemsImported events for the items whose content the project does not have yet,
    and the names of those skipped as duplicates."""
    known_hashes = {item.content_hash for item in project.items.values()}
    fresh: list[ImportedItem] = []
    skipped: list[str] = []
    for item in items:
        if item.item_id in project.items or item.content_hash in known_hashes:
            skipped.append(item.name or item.item_id)
            continue
        known_hashes.add(item.content_hash)
        fresh.append(item)
    events: list[ProjectEvent] = [
        ItemsImported(items=fresh[start : start + IMPORT_BATCH])
        for start in range(0, len(fresh), IMPORT_BATCH)
    ]
    return events, skipped
