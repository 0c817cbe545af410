"""Items: import files and archives, list them, and serve their media."""

from functools import partial

import anyio
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events.project import ItemsImported, ProjectEvent
from events.projections.workspace import ProjectState
from server.api.common import JSONResponse, authorize, caller, project_call, role_in
from server.auth.principal import Principal
from server.decide import projects as rules
from server.dicom import DicomError, encode_png, encode_values, read_dicom, without_phi
from server.errors import BadRequest, Forbidden, NotFound, PayloadTooLarge, Unprocessable
from server.media.content_types import media_type_for
from server.media.ingest import ingest
from server.media.limits import IngestLimits
from server.media.results import IngestedFile
from server.services import Services, services

IMMUTABLE = "private, max-age=31536000, immutable"
MAX_FILES = 1_000


async def _uploads(request: Request, limit: int) -> list[tuple[str, bytes]]:
    """The uploaded files: multipart `files` fields, or a raw body named by ?filename=."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"upload is {declared} bytes; the limit is {limit}", field="files")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=MAX_FILES, max_fields=MAX_FILES)
        files: list[tuple[str, bytes]] = []
        total = 0
        for value in form.getlist("files"):
            if not isinstance(value, UploadFile):
                raise BadRequest("the files field must hold files", field="files")
            data = await value.read()
            total += len(data)
            if total > limit:
                raise PayloadTooLarge(f"upload is over the limit of {limit} bytes", field="files")
            files.append((value.filename or "upload", data))
        if not files:
            raise BadRequest("send the files as multipart field `files`", field="files")
        return files
    name = request.query_params.get("filename")
    if not name:
        raise BadRequest(
            "send multipart/form-data with `files`, or the raw file with ?filename=NAME",
            field="filename",
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"upload is over the limit of {limit} bytes", field="files")
    return [(name, bytes(body))]


def _store(found: Services, accepted: list[IngestedFile]) -> None:
    for item in accepted:
        if item.data is not None:
            found.media.put(item.data)


async def import_items(request: Request) -> JSONResponse:
    """Imports images, DICOM files, text (CSV/JSONL/TXT) or archives of them; reports per file."""
    found, principal, project_id, _ = await project_call(request, "items.import")
    limit = found.settings.max_upload_bytes
    limits = IngestLimits(max_upload_bytes=limit)
    accepted: list[IngestedFile] = []
    errors: list[dict[str, str]] = []
    skipped: list[dict[str, str]] = []
    for name, data in await _uploads(request, limit):
        result = await anyio.to_thread.run_sync(partial(ingest, name, data, limits=limits))
        accepted += result.items
        errors += [{"name": e.name, "message": e.message} for e in result.errors]
        skipped += [{"name": s.name, "reason": s.reason} for s in result.skipped]
    # Media first, then the log: an item in the log always has its bytes on disk.
    await anyio.to_thread.run_sync(_store, found, accepted)
    duplicates: list[str] = []

    def decide(project: ProjectState | None) -> list[ProjectEvent]:
        assert project is not None
        events, dupes = rules.import_items(project, [a.item() for a in accepted])
        duplicates[:] = dupes
        return events

    recorded = await found.commands.project_events(
        project_id, principal.username, principal.session_id, decide
    )
    imported = sum(len(r.event.items) for r in recorded if isinstance(r.event, ItemsImported))
    skipped += [{"name": d, "reason": "already in the project"} for d in duplicates]
    status = 201 if imported else (422 if errors and not skipped else 200)
    return JSONResponse(
        {"imported": imported, "errors": errors, "skipped": skipped}, status_code=status
    )


async def list_items(request: Request) -> JSONResponse:
    """The project's items in import order, paged by ?offset= and ?limit=."""
    project = (await project_call(request, "project.read")).project
    try:
        offset = int(request.query_params.get("offset", "0"))
        limit = min(int(request.query_params.get("limit", "100")), 1_000)
    except ValueError:
        raise BadRequest("offset and limit must be whole numbers", field="limit") from None
    ids = list(project.items)[offset : offset + max(limit, 0)]
    listed = [
        {
            "item": project.items[i],
            "submitted_by": project.queue.submitted.get(i, []),
            "held_by": sorted(set(project.queue.holders.get(i, {}).values())),
        }
        for i in ids
    ]
    return JSONResponse({"items": listed, "total": len(project.items), "offset": offset})


def sees_patient_identifiers(project: ProjectState, principal: Principal) -> bool:
    """Admins always do; the project's other members only once an admin has shown them."""
    if principal.is_admin or role_in(project, principal) == "admin":
        return True
    return project.settings.patient_identifiers_shown


def _dicom_response(found: Services, data: bytes, request: Request, phi: bool) -> Response:
    view = request.query_params.get("view", "png")
    try:
        frame = int(request.query_params.get("frame", "0"))
    except ValueError:
        raise BadRequest("frame must be a whole number", field="frame") from None
    try:
        image = read_dicom(data)
        if not 0 <= frame < image.metadata.frames:
            raise Unprocessable(f"frame must be 0..{image.metadata.frames - 1}", field="frame")
        if view == "png":
            return Response(
                encode_png(image.render(frame)),
                media_type="image/png",
                headers={"Cache-Control": IMMUTABLE},
            )
        if view == "values":
            return Response(
                encode_values(image, frame),
                media_type="application/octet-stream",
                headers={"Cache-Control": IMMUTABLE},
            )
        if view == "metadata":
            metadata = image.metadata if phi else without_phi(image.metadata)
            return JSONResponse(metadata)
    except DicomError as exc:
        raise Unprocessable(exc.message, field="item") from exc
    raise BadRequest("view must be png, values, metadata or original", field="view")


async def media(request: Request) -> Response:
    """An item's media: images as stored; DICOM as ?view=png|values|metadata|original; text."""
    found = services(request)
    principal = await caller(request)
    project_id, item_id = request.path_params["project"], request.path_params["item"]
    project = authorize(found, principal, project_id, "project.read")
    item = project.items.get(item_id)
    if item is None:
        raise NotFound(f"there is no item {item_id} in this project", field="item")
    view = request.query_params.get("view", "png") if item.kind == "dicom" else None
    phi = sees_patient_identifiers(project, principal)
    if view == "original" and not phi:
        # The file as imported carries the patient's identifiers in its header.
        raise Forbidden(
            "the original DICOM file holds patient identifiers, which this project hides from you",
            field="view",
        )
    # Whether identifiers are in the answer is part of its identity: a cached copy made while
    # they were shown must not be revalidated once they are hidden.
    shows_phi = phi and view in ("metadata", "original")
    etag = f'"{item.content_hash}-{request.url.query}{"-phi" if shows_phi else ""}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    if item.kind == "text":
        return Response(
            item.text or "", media_type="text/plain; charset=utf-8", headers={"ETag": etag}
        )
    data = await anyio.to_thread.run_sync(found.media.read, item.content_hash)
    if view is not None and view != "original":
        response = await anyio.to_thread.run_sync(_dicom_response, found, data, request, phi)
    else:
        response = Response(
            data,
            media_type=media_type_for(item.kind, data[:64]),
            headers={"Cache-Control": IMMUTABLE},
        )
    response.headers["ETag"] = etag
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


routes = [
    Route("/api/projects/{project}/items", import_items, methods=["POST"]),
    Route("/api/projects/{project}/items", list_items, methods=["GET"]),
    Route("/api/projects/{project}/items/{item}/media", media, methods=["GET"]),
]
