"""Events of a project's settings stream (`project-<project>`): creation, tags, members, items."""

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from events.base import (
    Colour,
    Event,
    ItemId,
    ProjectId,
    ProjectType,
    TagKey,
    TagName,
    Text,
    UserName,
)

Role = Literal["admin", "labeler", "reviewer", "auditor"]
MediaKind = Literal["image", "dicom", "text"]
ContentHash = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$", description="sha256, hex")]


class TagSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One tag of a project's tag set; `key` is the number key that picks it."""

    name: TagName
    colour: Colour
    key: TagKey | None = None


class ImportedItem(msgspec.Struct, frozen=True, kw_only=True):
    """One item brought into a project: its media, identity and display size."""

    item_id: ItemId
    kind: MediaKind
    content_hash: ContentHash
    size_bytes: Annotated[int, Meta(ge=0)]
    name: Annotated[str, Meta(max_length=1024)] = ""
    width: Annotated[int, Meta(ge=0, le=100_000)] = 0
    height: Annotated[int, Meta(ge=0, le=100_000)] = 0
    frames: Annotated[int, Meta(ge=1, le=10_000)] = 1
    text: Text | None = None
    uri: Annotated[str, Meta(max_length=2048)] | None = None


class ProjectCreated(Event, frozen=True, kw_only=True, tag="project.created"):
    project_id: ProjectId
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    project_type: ProjectType
    instructions: Text = ""
    page_size: Annotated[int, Meta(ge=1, le=100)] = 9
    overlap: Annotated[int, Meta(ge=1, le=20)] = 1
    lease_seconds: Annotated[int, Meta(ge=10, le=86_400)] = 900
    target_precision: Annotated[float, Meta(ge=0.5, le=1.0)] = 0.95
    # Patient identifiers in DICOM files are hidden from everyone but admins unless shown.
    patient_identifiers_shown: bool = False


class TagsDefined(Event, frozen=True, kw_only=True, tag="project.tags_defined"):
    """Sets the whole tag set, in order (the first nine get number keys)."""

    tags: Annotated[list[TagSpec], Meta(min_length=1, max_length=500)]


class TagAdded(Event, frozen=True, kw_only=True, tag="project.tag_added"):
    tag: TagSpec


class InstructionsUpdated(Event, frozen=True, kw_only=True, tag="project.instructions_updated"):
    instructions: Text


class PatientIdentifiersShown(
    Event, frozen=True, kw_only=True, tag="project.patient_identifiers_shown"
):
    """An admin shows (or hides again) DICOM patient identifiers to the project's members."""

    shown: bool


class MemberAdded(Event, frozen=True, kw_only=True, tag="project.member_added"):
    user: UserName
    role: Role


class MemberRemoved(Event, frozen=True, kw_only=True, tag="project.member_removed"):
    user: UserName


class ItemsImported(Event, frozen=True, kw_only=True, tag="project.items_imported"):
    items: Annotated[list[ImportedItem], Meta(min_length=1, max_length=10_000)]


ProjectEvent = (
    ProjectCreated
    | TagsDefined
    | TagAdded
    | InstructionsUpdated
    | PatientIdentifiersShown
    | MemberAdded
    | MemberRemoved
    | ItemsImported
)
PROJECT_EVENTS: tuple[type[Event], ...] = (
    ProjectCreated,
    TagsDefined,
    TagAdded,
    InstructionsUpdated,
    PatientIdentifiersShown,
    MemberAdded,
    MemberRemoved,
    ItemsImported,
)
