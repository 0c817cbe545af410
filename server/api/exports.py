"""Exports of labels in the ecosystem's formats, as of any moment, and imports of labels.

    GET  /api/projects/{p}/export/formats    the formats that fit the project (for the UI)
    GET  /api/projects/{p}/export?format=coco&as_of=SEQ|TIME&include=drafts,prelabels
                                             &overlap=all|majority     streamed download
    POST /api/projects/{p}/labels?format=coco&filename=NAME            a label file (raw body
                                             or multipart `file`): a report per record

`as_of` is a seq (digits) or a time: ISO-8601 (`2024-05-01T12:00:00Z`; no zone means UTC)
or unix seconds with a fraction (`1714564800.5`). See docs/export.md.
"""

from collections.abc import AsyncIterator

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from server.api.common import JSONResponse, project_call
from server.errors import BadRequest, PayloadTooLarge
from server.export.dicom_refs import uid_lookup
from server.export.formats import formats_for
from server.export.model import ExportOptions
from server.export.options import INCLUDES, options_from, seq_of
from server.export.run import export_chunks, pick_format
from server.export.source import open_source
from server.labels_import.run import IMPORTERS, import_labels
from server.services import Services


async def resolve_as_of(found: Services, raw: str | None) -> int | None:
    """The seq `as_of` names (None: now)."""
    return await seq_of(found.store, raw)


def export_options(request: Request) -> ExportOptions:
    params = request.query_params
    return options_from(params.get("include", ""), params.get("overlap", "all"))


async def list_formats(request: Request) -> JSONResponse:
    """The export and import formats that fit the project, and the seq it stands at."""
    found, _, _, project = await project_call(request, "export")
    project_type = project.settings.project_type
    return JSONResponse(
        {
            "project_type": project_type,
            "seq": found.live.seq,
            "formats": [
                {
                    "name": f.name,
                    "title": f.title,
                    "media_type": f.media_type,
                    "extension": f.extension,
                }
                for f in formats_for(project_type)
            ],
            "imports": [i.name for i in IMPORTERS.values() if project_type in i.project_types],
            "include": sorted(INCLUDES),
            "overlap": ["all", "majority"],
        }
    )


async def export(request: Request) -> StreamingResponse:
    """Streams the project's labels in a format, as of now or of ?as_of=SEQ|TIME."""
    found, _, project_id, project = await project_call(request, "export")
    fmt = pick_format(request.query_params.get("format", ""), project.settings.project_type)
    options = export_options(request)
    as_of = await resolve_as_of(found, request.query_params.get("as_of"))
    if as_of is not None and as_of > found.live.seq:
        await found.live.wait_for(min(as_of, await found.store.last_seq()))
    source = await open_source(
        found.store, project_id, options, live=found.live.workspace, as_of=as_of
    )
    seq = source.project.seq
    chunks: AsyncIterator[bytes] = export_chunks(source, fmt, uid_lookup(found.media))
    name = f"{project_id}-{fmt.name}-seq{seq}.{fmt.extension}"
    return StreamingResponse(
        chunks,
        media_type=fmt.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Annolog-Seq": str(seq),
            "Cache-Control": "no-store",
        },
    )


async def _upload(request: Request, limit: int) -> tuple[str, bytes]:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"upload is {declared} bytes; the limit is {limit}", field="file")
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise BadRequest("send the label file as multipart field `file`", field="file")
        data = await upload.read()
        if len(data) > limit:
            raise PayloadTooLarge(f"upload is over the limit of {limit} bytes", field="file")
        return upload.filename or "labels", data
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"upload is over the limit of {limit} bytes", field="file")
    if not body:
        raise BadRequest("the label file is empty", field="file")
    return request.query_params.get("filename", "labels"), bytes(body)


async def import_label_file(request: Request) -> JSONResponse:
    """Imports labels (?format=coco|yolo|voc|png_masks|conll|jsonl|csv) as the `import` actor."""
    found, _, project_id, _ = await project_call(request, "items.import")
    format_name = request.query_params.get("format", "")
    name, data = await _upload(request, found.settings.max_upload_bytes)
    report = await import_labels(found.commands, project_id, format_name, data, name)
    status = 422 if report.errors and not (report.imported or report.unchanged) else 200
    return JSONResponse(report, status_code=status)


routes = [
    Route("/api/projects/{project}/export/formats", list_formats, methods=["GET"]),
    Route("/api/projects/{project}/export", export, methods=["GET"]),
    Route("/api/projects/{project}/labels", import_label_file, methods=["POST"]),
]
