"""The assistant: its state for the admin screen, and an admin's own ONNX model.

GET  /api/projects/{p}/assist         rounds (metrics, thresholds, coverage), clusters, the
                                      admin's model, prelabels accepted / corrected and the
                                      precision they realized (project.read)
POST /api/projects/{p}/assist/model   multipart: `model` (the .onnx file), `tag_map` (JSON:
                                      {"<class index>": "<tag>"}), optional `kind` and
                                      `min_score` (project.manage)

An uploaded model is checked against its kind's contract (docs/assist.md) before anything is
kept; a refusal names the problem. An accepted one is stored by hash in the media store and
registered in the log; the worker then prelabels with it.
"""

import json
import uuid
from typing import Any

import anyio
import msgspec
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.routing import Route

from events.assist import ClassTag, UserModelRegistered
from events.envelope import NewEvent, Recorded
from events.errors import ConcurrencyError
from events.streams import assist_stream
from models.errors import ModelTooLargeError, UserModelError
from models.user_contract import MAX_MODEL_BYTES
from models.user_models import load_user_model
from server.api.common import JSONResponse, project_call
from server.assist.report import assist_report
from server.assist.rounds import USER_MODEL_KIND, AssistSettings, last_round
from server.auth.principal import Principal
from server.errors import BadRequest, Conflict, PayloadTooLarge, Unprocessable
from server.services import Services

RETRIES = 5
# Room for the form's other fields around the model file.
FORM_SLACK = 64 * 1024


async def status(request: Request) -> JSONResponse:
    """The assistant's rounds, clusters, user model and the prelabels' realized precision."""
    _, _, project_id, project = await project_call(request, "project.read")
    return JSONResponse(assist_report(project_id, project, AssistSettings.from_env()))


async def upload_model(request: Request) -> JSONResponse:
    """Registers an admin's ONNX model (checked against its kind's contract) for prelabels."""
    found, principal, project_id, project = await project_call(request, "project.manage")
    needed = USER_MODEL_KIND[project.settings.project_type]
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_MODEL_BYTES + FORM_SLACK:
        raise PayloadTooLarge(
            f"upload is {declared} bytes; a model may have {MAX_MODEL_BYTES} bytes", field="model"
        )
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise BadRequest("send multipart/form-data with the file as `model`", field="model")
    async with request.form(max_files=1, max_fields=8) as form:
        upload = form.get("model")
        if not isinstance(upload, UploadFile):
            raise BadRequest(
                "the ONNX file must be sent as the multipart file `model`", field="model"
            )
        asked = _text(form.get("kind")) or needed
        if asked != needed:
            raise Unprocessable(
                f"a {project.settings.project_type} project takes a {needed} model, not {asked}",
                field="kind",
            )
        kind = needed
        tag_map = _tag_map(_text(form.get("tag_map")), {t.name for t in project.tags}, kind)
        min_score = _min_score(_text(form.get("min_score")))
        data = await upload.read(MAX_MODEL_BYTES + 1)
        name = (upload.filename or "model.onnx")[:200]
    try:
        model = await anyio.to_thread.run_sync(lambda: load_user_model(data, kind, tag_map))
    except ModelTooLargeError as exc:
        raise PayloadTooLarge(str(exc), field="model") from exc
    except UserModelError as exc:
        raise Unprocessable(str(exc), field="model") from exc
    digest = await anyio.to_thread.run_sync(found.media.put, data)
    event = UserModelRegistered(
        kind=kind,
        model_hash=digest,
        classes=[ClassTag(index=i, tag=t) for i, t in sorted(tag_map.items())],
        name=name,
        size_bytes=len(data),
        min_score=min_score,
    )
    recorded = await _append(found, project_id, event, principal)
    contract = model.contract
    return JSONResponse(
        {
            "model_hash": digest,
            "kind": kind,
            "name": name,
            "min_score": min_score,
            "classes": {str(i): t for i, t in sorted(tag_map.items())},
            "input": {"name": contract.input_name, "shape": list(contract.input_shape)},
            "outputs": {k: list(v) for k, v in contract.outputs.items()},
            "seq": recorded[-1].seq,
        },
        status_code=201,
    )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _tag_map(raw: str, tags: set[str], kind: str) -> dict[int, str]:
    """{"0": "cat", "2": "dog"} (or a list of {"index", "tag"}) → {0: "cat", 2: "dog"}."""
    if not raw:
        raise Unprocessable(
            'tag_map is required: JSON mapping model class indices to tags, e.g. {"0": "cat"}',
            field="tag_map",
        )
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise Unprocessable(f"tag_map is not JSON: {exc}", field="tag_map") from exc
    if isinstance(parsed, list):
        try:
            parsed = {str(entry["index"]): entry["tag"] for entry in parsed}
        except (TypeError, KeyError) as exc:
            raise Unprocessable(
                'a tag_map list holds {"index": <int>, "tag": <tag>} objects', field="tag_map"
            ) from exc
    if not isinstance(parsed, dict) or not parsed:
        raise Unprocessable("tag_map must map at least one class index to a tag", field="tag_map")
    out: dict[int, str] = {}
    for key, tag in parsed.items():
        try:
            index = int(key)
        except (TypeError, ValueError):
            raise Unprocessable(
                f"tag_map key {key!r} is not a class index", field="tag_map"
            ) from None
        if index < 0 or not isinstance(tag, str):
            raise Unprocessable(
                f"tag_map: class {key!r} → {tag!r} is not index → tag", field="tag_map"
            )
        bare = tag[2:] if kind == "token_classifier" and tag[:2] in ("B-", "I-") else tag
        if bare not in tags:
            raise Unprocessable(
                f"tag_map: class {index} maps to {tag!r}, which is not a tag of this project "
                f"({', '.join(sorted(tags))})",
                field="tag_map",
            )
        out[index] = tag
    return out


def _min_score(raw: str) -> float:
    if not raw:
        return 0.5
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise Unprocessable(
            f"min_score must be a number from 0 to 1, not {raw!r}", field="min_score"
        )
    return value


async def _append(
    found: Services, project_id: str, event: UserModelRegistered, principal: Principal
) -> list[Recorded]:
    """Appends to the assist stream, which the worker also writes: retried on a stale version.

    The registration takes the round after the project's latest, decided again on each try:
    the event that made the version stale may have been a round of the worker's.
    """
    stream = assist_stream(project_id)
    event_id = uuid.uuid4().hex
    for _ in range(RETRIES):
        project = found.live.project(project_id)
        version = project.assist_version
        new = NewEvent(
            event_id=event_id,
            event=msgspec.structs.replace(event, round=last_round(project) + 1),
            actor=principal.username,
            session=principal.session_id,
        )
        try:
            recorded = await found.store.append(stream, [new], version)
        except ConcurrencyError:
            await found.live.wait_for(await found.store.last_seq())
            continue
        await found.live.wait_for(recorded[-1].seq)
        return recorded
    raise Conflict(f"{stream} keeps changing; try again", field="stream")


routes = [
    Route("/api/projects/{project}/assist", status, methods=["GET"]),
    Route("/api/projects/{project}/assist/model", upload_model, methods=["POST"]),
]
