"""The labeler's side: pages, gestures, undo and redo, submit, skip, layout, heartbeats."""

from typing import Annotated, Any

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.routing import Route

from events.base import ItemId
from events.codec import MAX_BATCH_EVENTS
from events.envelope import IncomingEvent, Recorded
from events.projections.workspace import ProjectState
from server.api.common import (
    JSONResponse,
    authorize,
    caller,
    project_call,
    read_json,
    read_optional_json,
)
from server.api.openapi import accepts
from server.errors import NotFound
from server.services import Services, services


class GesturesBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    events: Annotated[list[IncomingEvent], Meta(min_length=1, max_length=MAX_BATCH_EVENTS)]
    expected_version: Annotated[int, Meta(ge=0)] | None = None


class SubmitBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    items: Annotated[list[ItemId], Meta(min_length=1, max_length=100)] | None = None


class SkipBody(msgspec.Struct, forbid_unknown_fields=True):
    item: ItemId


class LayoutBody(msgspec.Struct, forbid_unknown_fields=True):
    page_size: Annotated[int, Meta(ge=1, le=100)]


class PageBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    page_size: Annotated[int, Meta(ge=1, le=100)] | None = None


def page_answer(found: Services, project_id: str, session: str, labeler: str) -> dict[str, Any]:
    """The caller's page, its lease, whether the queue has run dry for them, and counts."""
    project = found.live.project(project_id)
    held = project.queue.sessions.get(session)
    items = project.queue.page_of(session)
    return {
        "items": items,
        "lease_until": held.lease_until if held is not None and held.open else None,
        "finished": not items and labeler in project.queue.exhausted,
        "counts": found.hub.counts(project_id, project),
        "seq": found.live.seq,
    }


def acks(recorded: list[Recorded]) -> dict[str, Any]:
    return {
        "recorded": [
            {"event_id": r.event_id, "seq": r.seq, "version": r.version} for r in recorded
        ],
        "version": recorded[-1].version if recorded else None,
    }


async def get_page(request: Request) -> JSONResponse:
    """The caller's current page, without assigning one."""
    found, principal, project_id, _ = await project_call(request, "label")
    return JSONResponse(page_answer(found, project_id, principal.session_id, principal.username))


@accepts(PageBody)
async def next_page(request: Request) -> JSONResponse:
    """Assigns the caller a page (their unfinished one first); `finished` when none is left."""
    found, principal, project_id, _ = await project_call(request, "label")
    body = await read_optional_json(request, PageBody, PageBody())
    await found.commands.next_page(
        project_id, principal.username, principal.session_id, body.page_size
    )
    return JSONResponse(page_answer(found, project_id, principal.session_id, principal.username))


def _item(project: ProjectState, item: str) -> None:
    if item not in project.items:
        raise NotFound(f"there is no item {item} in this project", field="item")


@accepts(GesturesBody)
async def append_events(request: Request) -> JSONResponse:
    """Appends the caller's gestures on an item of their page."""
    found = services(request)
    principal = await caller(request)
    project_id, item = request.path_params["project"], request.path_params["item"]
    _item(authorize(found, principal, project_id, "label"), item)
    body = await read_json(request, GesturesBody)
    recorded = await found.commands.append_gestures(
        project_id,
        item,
        principal.username,
        principal.session_id,
        body.events,
        body.expected_version,
    )
    return JSONResponse(acks(recorded))


async def undo(request: Request) -> JSONResponse:
    """Undoes (/undo) or redoes (/redo) the caller's latest gesture on the item."""
    found = services(request)
    principal = await caller(request)
    project_id, item = request.path_params["project"], request.path_params["item"]
    _item(authorize(found, principal, project_id, "label"), item)
    redo = request.url.path.endswith("/redo")
    recorded = await found.commands.undo(
        project_id, item, principal.username, principal.session_id, redo=redo
    )
    return JSONResponse(acks(recorded))


@accepts(SubmitBody)
async def submit(request: Request) -> JSONResponse:
    """Submits the page (or some of its items) when each item is complete."""
    found, principal, project_id, _ = await project_call(request, "label")
    body = await read_optional_json(request, SubmitBody, SubmitBody())
    recorded = await found.commands.submit(
        project_id, principal.username, principal.session_id, body.items
    )
    answer = page_answer(found, project_id, principal.session_id, principal.username)
    answer["submitted"] = recorded[0].event.items if recorded else []  # type: ignore[union-attr]
    return JSONResponse(answer)


@accepts(SkipBody)
async def skip(request: Request) -> JSONResponse:
    """Skips an item: it goes to others and never back to the caller."""
    found, principal, project_id, _ = await project_call(request, "label")
    body = await read_json(request, SkipBody)
    await found.commands.skip(project_id, principal.username, principal.session_id, body.item)
    return JSONResponse(page_answer(found, project_id, principal.session_id, principal.username))


@accepts(LayoutBody)
async def layout(request: Request) -> JSONResponse:
    """Switches page size: discards the page's drafts (as events) and deals a new page."""
    found, principal, project_id, _ = await project_call(request, "label")
    body = await read_json(request, LayoutBody)
    await found.commands.switch_layout(
        project_id, principal.username, principal.session_id, body.page_size
    )
    return JSONResponse(page_answer(found, project_id, principal.session_id, principal.username))


async def heartbeat(request: Request) -> JSONResponse:
    """Renews the caller's lease (the websocket heartbeat does the same)."""
    found, principal, project_id, _ = await project_call(request, "label")
    until = await found.commands.heartbeat(
        project_id, principal.username, principal.session_id, found.settings.renewal_record_seconds
    )
    return JSONResponse({"lease_until": until})


routes = [
    Route("/api/projects/{project}/page", get_page, methods=["GET"]),
    Route("/api/projects/{project}/page", next_page, methods=["POST"]),
    Route("/api/projects/{project}/items/{item}/events", append_events, methods=["POST"]),
    Route("/api/projects/{project}/items/{item}/undo", undo, methods=["POST"]),
    Route("/api/projects/{project}/items/{item}/redo", undo, methods=["POST"]),
    Route("/api/projects/{project}/submit", submit, methods=["POST"]),
    Route("/api/projects/{project}/skip", skip, methods=["POST"]),
    Route("/api/projects/{project}/layout", layout, methods=["POST"]),
    Route("/api/projects/{project}/heartbeat", heartbeat, methods=["POST"]),
]
