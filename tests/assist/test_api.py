"""The web server and the worker on one log: the admin's model upload, the assistant's report,
and prelabels judged by labelers through the real write path.

The app runs in-process (its lifespan and routes, driven through httpx); the worker has a
store of its own on the same SQLite file, as the `assist` process does.
"""

import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from onnx import TensorProto, helper
from PIL import Image

from events.assist import AssistantDisabled, ModelTrained, PrelabelProposed, UserModelRegistered
from events.sqlite_store import SQLiteStore
from server.app import create_app
from server.assist.worker import Worker
from server.auth.sqlite_users import SQLiteUserStore
from server.media.storage import MediaStore
from server.services import Services
from server.settings import Settings
from tests.assist.conftest import SETTINGS, Lab, digit_pngs
from tests.models.tiny_models import const, finish, image_classifier, image_input, object_detector

DIGITS = [str(d) for d in range(10)]


@dataclass
class Web:
    client: httpx.AsyncClient
    services: Services
    worker: Worker
    lab: Lab

    async def settled(self) -> None:
        """Until the worker has done all it can and the web has folded what it wrote."""
        await self.worker.wait_for(await self.services.store.last_seq())
        await self.worker.run_until_idle()
        await self.services.live.wait_for(self.worker.workspace.seq)

    async def report(self) -> dict[str, Any]:
        answer = await self.client.get("/api/projects/p/assist")
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    async def upload(self, data: bytes, **fields: str) -> httpx.Response:
        return await self.client.post(
            "/api/projects/p/assist/model",
            files={"model": ("model.onnx", data, "application/octet-stream")},
            data=fields,
        )


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Web]:
    db, media_dir = tmp_path / "log.db", tmp_path / "media"
    users = await SQLiteUserStore.open(db)
    await users.add_user("admin", "admin-password-for-tests", is_admin=True)
    _, token = await users.create_token("admin", "tests")
    await users.close()
    app = create_app(Settings(database=str(db), media_dir=media_dir, secret_key=b"k" * 32))
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        worker_store = await SQLiteStore.open(db, watch_interval=0.02)
        worker = Worker(worker_store, MediaStore(media_dir), SETTINGS)
        await worker.start()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://annolog.test",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            assert isinstance(services.store, SQLiteStore)
            yield Web(client, services, worker, Lab(services.store, services.media))
        await worker.stop()
        await worker_store.close()


def _picture(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def _crashing_detector() -> bytes:
    """Meets the detector contract on paper; its Reshape fails on any image but 16 × 16 / 3."""
    nodes = [
        helper.make_node("Reshape", ["image", "shape"], ["boxes"]),
        helper.make_node("Identity", ["s"], ["scores"]),
        helper.make_node("Identity", ["c"], ["classes"]),
    ]
    outs = [
        helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["K", 4]),
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["K"]),
        helper.make_tensor_value_info("classes", TensorProto.INT64, ["K"]),
    ]
    inits = [
        const("shape", np.array([16, 4], np.int64)),
        const("s", np.full(16, 0.9, np.float32)),
        const("c", np.zeros(16, np.int64)),
    ]
    return finish(nodes, [image_input([1, 3, "H", "W"])], outs, inits)


def _crashing_classifier() -> bytes:
    """Meets the image classifier contract on paper; its Reshape fails on every 8 × 8 image."""
    nodes = [
        helper.make_node("Reshape", ["image", "shape"], ["z"]),
        helper.make_node("Softmax", ["z"], ["probabilities"], axis=-1),
    ]
    out = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 3])
    inits = [const("shape", np.array([5, 3], np.int64))]
    return finish(nodes, [image_input(["N", 3, 8, 8])], [out], inits)


async def _proposal_rounds(web: Web, model_hash: str) -> set[int]:
    found = set()
    for recorded in await web.lab.events(PrelabelProposed):
        assert isinstance(recorded.event, PrelabelProposed)
        if recorded.event.model_hash == model_hash:
            found.add(recorded.event.round)
    return found


async def _boxes_project(web: Web) -> None:
    await web.lab.create("bounding_boxes", ["red", "blue"], page_size=1)
    await web.lab.images([(f"img{i}", _picture(i), "") for i in range(4)])
    await web.services.live.wait_for(await web.services.store.last_seq())


async def test_a_model_off_its_contract_is_refused_at_upload_with_the_reason(web: Web) -> None:
    await _boxes_project(web)
    detector = object_detector(
        np.array([[2, 2, 10, 8]], np.float32), np.array([0.9], np.float32), np.array([1])
    )
    cases = [
        (
            b"not a model at all",
            {"tag_map": '{"1": "red"}'},
            422,
            "model",
            "object_detector model refused",
        ),
        (detector, {"tag_map": '{"1": "green"}'}, 422, "tag_map", "not a tag of this project"),
        (detector, {}, 422, "tag_map", "tag_map is required"),
        (detector, {"tag_map": "{1: red}"}, 422, "tag_map", "not JSON"),
        (
            detector,
            {"tag_map": '{"1": "red"}', "kind": "segmenter"},
            422,
            "kind",
            "takes a object_detector",
        ),
        (detector, {"tag_map": '{"1": "red"}', "min_score": "2"}, 422, "min_score", "from 0 to 1"),
        (_picture(0), {"tag_map": '{"0": "red"}'}, 422, "model", "not an ONNX model"),
    ]
    for data, fields, status, field, text in cases:
        answer = await web.upload(data, **fields)
        assert answer.status_code == status, (fields, answer.text)
        error = answer.json()["error"]
        assert (error["field"], text in error["message"]) == (field, True), error
    assert (await web.report())["user_model"] is None
    assert not await web.lab.events(UserModelRegistered)


async def test_a_users_detector_prelabels_boxes_until_a_model_crashes_and_is_disabled(
    web: Web,
) -> None:
    await _boxes_project(web)
    detector = object_detector(
        np.array([[2, 2, 10, 8], [0, 0, 4, 4]], np.float32),
        np.array([0.9, 0.3], np.float32),
        np.array([1, 0]),
    )
    answer = await web.upload(detector, tag_map='{"1": "red", "0": "blue"}', min_score="0.5")
    assert answer.status_code == 201, answer.text
    registered = answer.json()
    assert registered["classes"] == {"0": "blue", "1": "red"}
    assert web.services.media.read(registered["model_hash"]) == detector
    await web.settled()
    proposals = await web.lab.events(PrelabelProposed)
    assert sorted(r.stream for r in proposals) == [f"item-p-img{i}" for i in range(4)]
    for recorded in proposals:
        proposal = recorded.event
        assert isinstance(proposal, PrelabelProposed)
        assert proposal.model_hash == registered["model_hash"]
        # In the image's pixels (the model saw it at 16 × 16); the 0.3 box is under min_score.
        assert [(b.tag, b.x, b.y, b.w, b.h, b.score) for b in proposal.boxes] == [
            ("red", 4.0, 4.0, 16.0, 12.0, 0.9)
        ]
    report = await web.report()
    assert report["trains"] is False
    assert report["next_round_at"] is None
    assert report["user_model"]["active"] is True
    assert report["user_model"]["proposed"] == 4

    crashing = await web.upload(_crashing_detector(), tag_map='{"0": "red"}')
    assert crashing.status_code == 201, crashing.text
    await web.settled()
    (disabled,) = await web.lab.events(AssistantDisabled)
    assert isinstance(disabled.event, AssistantDisabled)
    assert disabled.event.model_hash == crashing.json()["model_hash"]
    report = await web.report()
    assert report["user_model"]["active"] is False
    assert "inference failed" in report["user_model"]["error"]
    assert report["disabled"] == [
        {"model_hash": crashing.json()["model_hash"], "error": disabled.event.error}
    ]
    assert len(await web.lab.events(PrelabelProposed)) == 4, "nothing from the crashed model"
    assert await web.worker.run_until_idle() == 0, "a disabled model is not tried again"


async def test_the_report_shows_rounds_and_the_precision_labelers_realized(web: Web) -> None:
    data = digit_pngs(300)
    ids = [item for item, _, _ in data]
    await web.lab.create("image_multiclass", DIGITS)
    await web.lab.images(data)
    await web.lab.label_truly(ids[:250])
    await web.settled()
    report = await web.report()
    (first,) = report["rounds"]
    assert first["round"] == 1
    assert first["labels_used"] == 250
    assert first["threshold"] is not None
    assert first["pool"] == 50
    assert first["proposed"] > 0
    assert first["coverage"] == pytest.approx(first["proposed"] / 50)
    assert report["clusters"]["round"] == 1
    assert report["prelabels"]["open"] == first["proposed"]
    assert report["labels"] == 250
    assert report["next_round_at"] == 313

    # The queue deals the prelabeled items first; the labeler takes three proposals, keeps two
    # and corrects one.
    page = await web.client.post("/api/projects/p/page", json={"page_size": 3})
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    project = web.services.live.project("p")
    assert all(project.annotations[i].latest_proposal for i in items)
    for n, item in enumerate(items):
        proposal_id = project.annotations[item].latest_proposal
        proposed = project.annotations[item].proposals[proposal_id or ""].tags[0]
        events: list[dict[str, Any]] = [
            {
                "event_id": uuid.uuid4().hex,
                "event": {"type": "annotation.prelabel_applied", "proposal_event_id": proposal_id},
            }
        ]
        if n == 2:
            other = next(t for t in DIGITS if t != proposed)
            events.append(
                {
                    "event_id": uuid.uuid4().hex,
                    "event": {"type": "annotation.tag_applied", "tag": other},
                }
            )
        sent = await web.client.post(
            f"/api/projects/p/items/{item}/events", json={"events": events}
        )
        assert sent.status_code in (200, 201), sent.text
    submitted = await web.client.post("/api/projects/p/submit", json={})
    assert submitted.status_code == 200, submitted.text
    report = await web.report()
    assert (report["rounds"][0]["accepted"], report["rounds"][0]["corrected"]) == (2, 1)
    assert report["rounds"][0]["realized_precision"] == pytest.approx(2 / 3)
    assert report["prelabels"]["accepted"] == 2
    assert report["prelabels"]["corrected"] == 1
    assert report["prelabels"]["open"] == first["proposed"] - 3


async def test_an_admins_models_take_the_next_rounds_and_the_workers_rounds_count_on(
    web: Web,
) -> None:
    data = digit_pngs(120)
    ids = [item for item, _, _ in data]
    await web.lab.create("image_multiclass", DIGITS)
    await web.lab.images(data)
    await web.lab.label_truly(ids[:50])
    await web.settled()
    assert [r["round"] for r in (await web.report())["rounds"]] == [1]

    # Grey digits give every class the same score: 1/3 each here, 1/2 each below.
    first = await web.upload(
        image_classifier(), tag_map='{"0": "0", "1": "1", "2": "2"}', min_score="0.3"
    )
    assert first.status_code == 201, first.text
    await web.settled()
    assert await _proposal_rounds(web, first.json()["model_hash"]) == {2}
    second = await web.upload(
        image_classifier(n_classes=2), tag_map='{"0": "5", "1": "6"}', min_score="0.3"
    )
    assert second.status_code == 201, second.text
    await web.settled()
    assert await _proposal_rounds(web, second.json()["model_hash"]) == {3}
    assert (await web.report())["user_model"]["round"] == 3

    crashing = await web.upload(_crashing_classifier(), tag_map='{"0": "7"}')
    assert crashing.status_code == 201, crashing.text
    await web.settled()
    assert (await web.report())["user_model"]["active"] is False
    await web.lab.label_truly(ids[50:63])
    await web.settled()
    registered = [r.event for r in await web.lab.events(UserModelRegistered)]
    assert [e.round for e in registered] == [2, 3, 4]  # type: ignore[union-attr]
    trained = [r.event for r in await web.lab.events(ModelTrained)]
    assert [(m.round, m.labels_used) for m in trained] == [(1, 50), (5, 63)]  # type: ignore[union-attr]
