"""The auditor's side: an item's history, any item or project as of a seq or time, the log."""

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from events.envelope import Recorded
from events.projections.items import ItemState
from events.projections.replay import item_history, replay_item, workspace_as_of
from server.api.common import JSONResponse, authorize, caller, project_call
from server.errors import BadRequest, Forbidden, NotFound
from server.queue_counts import queue_counts
from server.services import Services, services

MAX_PAGE = 1_000
SCAN_LIMIT = 100_000


def _int_param(request: Request, name: str, default: int | None, low: int = 0) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number", field=name) from None
    if value < low:
        raise BadRequest(f"{name} must be >= {low}", field=name)
    return value


async def _as_of(request: Request, found: Services) -> int | None:
    """The seq named by ?as_of=SEQ or ?at=UNIX_TIME (None: now)."""
    seq = _int_param(request, "as_of", None)
    raw_at = request.query_params.get("at")
    if raw_at:
        try:
            at = float(raw_at)
        except ValueError:
            raise BadRequest("at must be a unix time in seconds", field="at") from None
        return await found.store.seq_at(at)
    return seq


def item_view(state: ItemState) -> dict[str, Any]:
    return {
        "version": state.version,
        "last_seq": state.last_seq,
        "drafts": {labeler: state.draft_of(labeler) for labeler in state.work},
        "submitted": {who: w.submitted for who, w in state.work.items() if w.submitted is not None},
        "undo": {who: w.done[-1][0] for who, w in state.work.items() if w.done},
        "redo": {who: w.undone[-1][0] for who, w in state.work.items() if w.undone},
        "prelabel_outcome": {
            who: w.prelabel_outcome for who, w in state.work.items() if w.prelabel_outcome
        },
        "proposals": state.proposals,
        "latest_proposal": state.latest_proposal,
    }


async def item_state(request: Request) -> JSONResponse:
    """An item's annotations now (project.read), or as of ?as_of=SEQ / ?at=TIME (audit.read)."""
    found = services(request)
    principal = await caller(request)
    project_id, item = request.path_params["project"], request.path_params["item"]
    project = authorize(found, principal, project_id, "project.read")
    if request.query_params.get("as_of") or request.query_params.get("at"):
        # Going back in time is replay: the auditor's right, as for the item's history.
        authorize(found, principal, project_id, "audit.read")
    if item not in project.items:
        raise NotFound(f"there is no item {item} in this project", field="item")
    until = await _as_of(request, found)
    if until is None:
        state = project.annotations.get(item) or ItemState(multi_label=project.multi_label)
    else:
        events = await item_history(found.store, project_id, item)
        state = replay_item(events, project.settings.project_type, until)
    return JSONResponse({"item": project.items[item], "as_of": until, **item_view(state)})


async def history(request: Request) -> JSONResponse:
    """Every event of an item, in order: what the auditor's scrubber replays."""
    found = services(request)
    principal = await caller(request)
    project_id, item = request.path_params["project"], request.path_params["item"]
    project = authorize(found, principal, project_id, "audit.read")
    if item not in project.items:
        raise NotFound(f"there is no item {item} in this project", field="item")
    events = await item_history(found.store, project_id, item)
    return JSONResponse(
        {
            "item": project.items[item],
            "project_type": project.settings.project_type,
            "events": events,
        }
    )


async def project_state(request: Request) -> JSONResponse:
    """The project's progress and queue as of ?as_of=SEQ or ?at=TIME."""
    found, _, project_id, _ = await project_call(request, "audit.read")
    until = await _as_of(request, found)
    if until is None:
        project = found.live.project(project_id)
        seq = found.live.seq
    else:
        workspace = await workspace_as_of(found.store, until)
        found_project = workspace.projects.get(project_id)
        if found_project is None:
            raise NotFound(f"project {project_id} did not exist yet at seq {until}", field="as_of")
        project = found_project
        seq = workspace.seq
    return JSONResponse(
        {
            "seq": seq,
            "progress": project.progress,
            "counts": queue_counts(project),
            "tags": project.tags,
            "items": len(project.items),
            "submitted": {item: labelers for item, labelers in project.queue.submitted.items()},
        }
    )


async def log_page(request: Request) -> JSONResponse:
    """The log, paged by seq, filtered by project, stream, actor and event type."""
    found = services(request)
    principal = await caller(request)
    project_id = request.query_params.get("project")
    if project_id:
        authorize(found, principal, project_id, "audit.read")
    elif not principal.is_admin:
        raise Forbidden("name a project you audit (?project=...); the whole log is for admins")
    after = _int_param(request, "after", 0) or 0
    limit = min(_int_param(request, "limit", 100, low=1) or 100, MAX_PAGE)
    stream = request.query_params.get("stream")
    actor = request.query_params.get("actor")
    kind = request.query_params.get("type")

    def wanted(r: Recorded) -> bool:
        if project_id and r.stream.split("-", 2)[1] != project_id:
            return False
        if stream and r.stream != stream:
            return False
        if actor and r.actor != actor:
            return False
        return not kind or r.event.__struct_config__.tag == kind

    selected: list[Recorded] = []
    cursor, scanned = after, 0
    while len(selected) < limit and scanned < SCAN_LIMIT:
        page = await found.store.read_all(cursor, 1_000)
        if not page:
            break
        for recorded in page:
            cursor = recorded.seq
            if wanted(recorded):
                selected.append(recorded)
                if len(selected) == limit:
                    break
        scanned += len(page)
    return JSONResponse(
        {"events": selected, "next_after": cursor, "last_seq": await found.store.last_seq()}
    )


routes = [
    Route("/api/projects/{project}/items/{item}/state", item_state, methods=["GET"]),
    Route("/api/projects/{project}/items/{item}/history", history, methods=["GET"]),
    Route("/api/projects/{project}/state", project_state, methods=["GET"]),
    Route("/api/log", log_page, methods=["GET"]),
]
