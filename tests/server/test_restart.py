"""Restarting the server mid-work: leases, pages, drafts and undo history survive, whether the
process stopped cleanly (checkpoint at exit) or was killed (last checkpoint + the log's tail)."""

import contextlib
import json
import sqlite3
import time
from typing import Any

from tests.server.clients import Api, Clients, eventually, http_client, make_project, tag
from tests.server.servers import Server, ServerFactory


def checkpoint_seq(server: Server) -> int | None:
    """The seq of the workspace checkpoint in the server's file (read beside the server)."""
    with contextlib.closing(sqlite3.connect(f"file:{server.db}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT seq FROM read_models WHERE name = 'workspace'").fetchone()
    return None if row is None else int(row[0])


async def reproject(admin: Api) -> dict[str, Any]:
    """Rebuilds the read model from the log; the last progress line says if it equals live."""
    response = await admin.request("POST", "/api/admin/reproject")
    assert response.status_code == 200, response.text
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines[0]["phase"] == "started"
    done: dict[str, Any] = lines[-1]
    assert done["phase"] == "done", lines
    return done


async def served(clients: Clients, project: str, items: list[str]) -> dict[str, Any]:
    """What the server shows of a project: the labeler's page, item states, stats, state."""
    ann, admin = clients("ann"), clients("admin")
    page = await ann.get(f"/api/projects/{project}/page")
    page.pop("seq")
    stats = await admin.get(f"/api/projects/{project}/stats")
    return {
        "page": page,
        "states": {item: await ann.state(project, item) for item in items},
        "stats": stats,
        "project": await admin.get(f"/api/projects/{project}/state"),
    }


async def test_leases_and_drafts_survive_restarts(
    make_server: ServerFactory, tokens: dict[str, list[str]]
) -> None:
    server = make_server(ANNOLOG_CHECKPOINT_SECONDS="0.3")
    async with http_client(server) as http:
        clients = Clients(http, tokens)
        ann, admin = clients("ann"), clients("admin")
        items = await make_project(admin, "restart", "text_multilabel", items=9, page_size=3)
        page = await ann.page("restart")
        assert page["items"] == items[:3]
        await ann.gestures("restart", "t000", tag("a"), tag("b"))
        await ann.gestures("restart", "t001", tag("c"))
        await clients("bob").page("restart")
        # Wait for the periodic checkpoint to cover all of that, then write a tail after it.
        covered = await admin.last_seq()
        await eventually(lambda: (checkpoint_seq(server) or 0) >= covered)
        await ann.gestures("restart", "t002", tag("a"))
        await ann.post("/api/projects/restart/items/t000/undo")
        before = await served(clients, "restart", items)
        last = await admin.last_seq()

    # kill -9: nothing is saved at exit, so the restart folds the checkpoint and the tail.
    server.kill()
    saved = checkpoint_seq(server)
    assert saved is not None
    assert covered <= saved < last
    await server.astart()
    async with http_client(server) as http:
        clients = Clients(http, tokens)
        ann, admin = clients("ann"), clients("admin")
        after = await served(clients, "restart", items)
        assert after == before
        assert after["page"]["items"] == items[:3]
        assert after["page"]["lease_until"] == page["lease_until"]
        assert after["states"]["t000"]["drafts"]["ann"]["tags"] == ["a"]
        assert after["states"]["t002"]["drafts"]["ann"]["tags"] == ["a"]
        done = await reproject(admin)
        assert done["equals_live"] is True
        assert done["seq"] == last

    # A clean stop saves a checkpoint at the newest seq; the start folds no tail at all.
    await server.astop()
    assert checkpoint_seq(server) == last
    await server.astart()
    async with http_client(server) as http:
        clients = Clients(http, tokens)
        assert await served(clients, "restart", items) == before
        ann = clients("ann")
        # The lease held: the same page, still ann's, and she can finish it.
        assert (await ann.page("restart"))["items"] == items[:3]
        submitted = await ann.submit("restart")
        assert submitted["submitted"] == items[:3]
        assert submitted["lease_until"] is None or submitted["lease_until"] > time.time()


async def test_undo_and_redo_across_restarts(server: Server, tokens: dict[str, list[str]]) -> None:
    async def state() -> Any:
        found = await ann.state("undo", "t000")
        return found["drafts"]["ann"]["tags"], found["undo"].get("ann"), found["redo"].get("ann")

    async def step(action: str, status: int = 200) -> Any:
        return await ann.post(f"/api/projects/undo/items/t000/{action}", status=status)

    async with http_client(server) as http:
        clients = Clients(http, tokens)
        ann = clients("ann")
        await make_project(clients("admin"), "undo", "text_multilabel", items=3, page_size=1)
        await ann.page("undo")
        ids = []
        for name in ("a", "b", "c"):
            ids.append((await ann.gestures("undo", "t000", tag(name)))["recorded"][0]["event_id"])
        await step("undo")
        assert await state() == (["a", "b"], ids[1], ids[2])

    await server.restart()
    async with http_client(server) as http:
        ann = Clients(http, tokens)("ann")
        assert await state() == (["a", "b"], ids[1], ids[2])
        await step("redo")
        assert await state() == (["a", "b", "c"], ids[2], None)
        await step("undo")
        await step("undo")
        assert await state() == (["a"], ids[0], ids[1])

    await server.restart(kill=True)
    async with http_client(server) as http:
        ann = Clients(http, tokens)("ann")
        assert await state() == (["a"], ids[0], ids[1])
        await step("redo")
        assert await state() == (["a", "b"], ids[1], ids[2])
        # A new gesture ends the redo chain, across the restart as before it.
        await ann.gestures("undo", "t000", tag("c"))
        refused = await step("redo", status=409)
        assert "redo" in refused["error"]["message"]
        for _ in range(3):
            await step("undo")
        assert await state() == ([], None, ids[0])
        refused = await step("undo", status=409)
        assert "undo" in refused["error"]["message"]
        auditor = Clients(http, tokens)("audrey")
        history = await auditor.get("/api/projects/undo/items/t000/history")
        kinds = [e["event"]["type"] for e in history["events"]]
        assert kinds.count("annotation.undone") == 6
        assert kinds.count("annotation.redone") == 2
