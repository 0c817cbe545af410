"""Projects: create, list with progress, show, tags, instructions, members, statistics."""

from typing import Annotated, Any

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.routing import Route

from events.base import ProjectId, ProjectType, Text, UserName
from events.project import ProjectCreated, Role, TagSpec
from events.projections.workspace import ProjectState
from server.api.common import JSONResponse, caller, project_call, read_json
from server.api.openapi import accepts
from server.decide import projects as rules
from server.errors import Forbidden, NotFound
from server.queue_counts import queue_counts
from server.services import services


class ProjectBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    project_id: ProjectId
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    project_type: ProjectType
    tags: Annotated[list[TagSpec], Meta(min_length=1, max_length=500)]
    instructions: Text = ""
    page_size: Annotated[int, Meta(ge=1, le=100)] = 9
    overlap: Annotated[int, Meta(ge=1, le=20)] = 1
    lease_seconds: Annotated[int, Meta(ge=10, le=86_400)] | None = None
    target_precision: Annotated[float, Meta(ge=0.5, le=1.0)] = 0.95


class TagsBody(msgspec.Struct, forbid_unknown_fields=True):
    tags: Annotated[list[TagSpec], Meta(min_length=1, max_length=500)]


class InstructionsBody(msgspec.Struct, forbid_unknown_fields=True):
    instructions: Text


class PatientIdentifiersBody(msgspec.Struct, forbid_unknown_fields=True):
    shown: bool


class MemberBody(msgspec.Struct, forbid_unknown_fields=True):
    user: UserName
    role: Role


def summary(project_id: str, project: ProjectState, role: str | None) -> dict[str, Any]:
    settings = project.settings
    return {
        "project_id": project_id,
        "name": settings.name,
        "project_type": settings.project_type,
        "page_size": settings.page_size,
        "overlap": settings.overlap,
        "lease_seconds": settings.lease_seconds,
        "role": role,
        "progress": project.progress,
        "counts": queue_counts(project),
    }


async def list_projects(request: Request) -> JSONResponse:
    """The caller's projects with progress and queue counts."""
    found = services(request)
    principal = await caller(request)
    listed = [
        summary(pid, project, project.members.get(principal.username))
        for pid, project in found.live.workspace.projects.items()
        if principal.is_admin or principal.username in project.members
    ]
    return JSONResponse({"projects": listed})


@accepts(ProjectBody)
async def create_project(request: Request) -> JSONResponse:
    """Creates a project (administrators only)."""
    found = services(request)
    principal = await caller(request)
    if not principal.is_admin:
        raise Forbidden("only an administrator can create projects")
    body = await read_json(request, ProjectBody)
    created = ProjectCreated(
        project_id=body.project_id,
        name=body.name,
        project_type=body.project_type,
        instructions=body.instructions,
        page_size=body.page_size,
        overlap=body.overlap,
        lease_seconds=body.lease_seconds or found.settings.default_lease_seconds,
        target_precision=body.target_precision,
    )
    await found.commands.project_events(
        body.project_id,
        principal.username,
        principal.session_id,
        lambda _: rules.create_project(
            found.live.workspace, created, body.tags, principal.username
        ),
    )
    project = found.live.project(body.project_id)
    return JSONResponse(detail(body.project_id, project, "admin"), status_code=201)


def detail(project_id: str, project: ProjectState, role: str | None) -> dict[str, Any]:
    return {
        **summary(project_id, project, role),
        "instructions": project.settings.instructions,
        "target_precision": project.settings.target_precision,
        "patient_identifiers_shown": project.settings.patient_identifiers_shown,
        "tags": project.tags,
        "members": project.members if role == "admin" else None,
        "models": project.models,
    }


async def show_project(request: Request) -> JSONResponse:
    """One project: settings, tags, instructions, members (admins), models."""
    _, principal, project_id, project = await project_call(request, "project.read")
    role = "admin" if principal.is_admin else project.members.get(principal.username)
    return JSONResponse(detail(project_id, project, role))


@accepts(TagsBody)
async def set_tags(request: Request) -> JSONResponse:
    """Sets the project's tag set."""
    found, principal, project_id, _ = await project_call(request, "project.manage")
    body = await read_json(request, TagsBody)
    await found.commands.project_events(
        project_id, principal.username, principal.session_id, lambda _: rules.define_tags(body.tags)
    )
    return JSONResponse({"tags": found.live.project(project_id).tags})


@accepts(InstructionsBody)
async def set_instructions(request: Request) -> JSONResponse:
    """Replaces the project's instructions (Markdown)."""
    found, principal, project_id, _ = await project_call(request, "project.manage")
    body = await read_json(request, InstructionsBody)
    await found.commands.project_events(
        project_id,
        principal.username,
        principal.session_id,
        lambda _: rules.update_instructions(body.instructions),
    )
    return JSONResponse({"instructions": found.live.project(project_id).settings.instructions})


@accepts(PatientIdentifiersBody)
async def set_patient_identifiers(request: Request) -> JSONResponse:
    """Shows or hides DICOM patient identifiers to the project's labelers, reviewers, auditors."""
    found, principal, project_id, _ = await project_call(request, "project.manage")
    body = await read_json(request, PatientIdentifiersBody)

    def decide(project: ProjectState | None) -> list[Any]:
        assert project is not None
        return rules.show_patient_identifiers(project, body.shown)

    await found.commands.project_events(
        project_id, principal.username, principal.session_id, decide
    )
    shown = found.live.project(project_id).settings.patient_identifiers_shown
    return JSONResponse({"patient_identifiers_shown": shown})


@accepts(MemberBody)
async def add_member(request: Request) -> JSONResponse:
    """Adds a user to the project with a role (or changes their role)."""
    found, principal, project_id, _ = await project_call(request, "project.manage")
    body = await read_json(request, MemberBody)
    if await found.users.get(body.user) is None:
        raise NotFound(f"there is no user {body.user}", field="user")

    def decide(project: ProjectState | None) -> list[Any]:
        assert project is not None
        return rules.add_member(project, body.user, body.role)

    await found.commands.project_events(
        project_id, principal.username, principal.session_id, decide
    )
    return JSONResponse({"members": found.live.project(project_id).members})


async def remove_member(request: Request) -> JSONResponse:
    """Removes a user from the project."""
    found, principal, project_id, _ = await project_call(request, "project.manage")
    user = request.path_params["user"]

    def decide(project: ProjectState | None) -> list[Any]:
        assert project is not None
        return rules.remove_member(project, user)

    await found.commands.project_events(
        project_id, principal.username, principal.session_id, decide
    )
    return JSONResponse({"members": found.live.project(project_id).members})


async def statistics(request: Request) -> JSONResponse:
    """Progress per labeler and tag, queue counts, open sessions, model rounds."""
    project = (await project_call(request, "project.read")).project
    sessions = [
        {
            "session": sid,
            "user": s.user,
            "open": s.open,
            "lease_until": s.lease_until,
            "page": s.page,
        }
        for sid, s in project.queue.sessions.items()
        if s.open
    ]
    return JSONResponse(
        {
            "progress": project.progress,
            "counts": queue_counts(project),
            "open_sessions": sessions,
            "models": project.models,
        }
    )


routes = [
    Route("/api/projects", list_projects, methods=["GET"]),
    Route("/api/projects", create_project, methods=["POST"]),
    Route("/api/projects/{project}", show_project, methods=["GET"]),
    Route("/api/projects/{project}/tags", set_tags, methods=["PUT"]),
    Route("/api/projects/{project}/instructions", set_instructions, methods=["PUT"]),
    Route("/api/projects/{project}/patient-identifiers", set_patient_identifiers, methods=["PUT"]),
    Route("/api/projects/{project}/members", add_member, methods=["POST"]),
    Route("/api/projects/{project}/members/{user}", remove_member, methods=["DELETE"]),
    Route("/api/projects/{project}/stats", statistics, methods=["GET"]),
]
