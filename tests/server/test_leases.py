"""Leases: a labeler who goes silent loses the page to the reaper, is told so live, and can no
longer write to it; one who keeps heart-beating keeps theirs; signing out releases at once."""

import asyncio
import contextlib

from tests.server.clients import Clients, http_client, make_project, new_id, tag
from tests.server.servers import ServerFactory
from tests.server.sockets import Socket

LEASE = 10  # seconds, the shortest lease a project may have


async def heartbeats(socket: Socket, every: float) -> None:
    while True:
        await socket.send({"type": "heartbeat"})
        await asyncio.sleep(every)


async def test_silent_labeler_loses_the_page_to_another(
    make_server: ServerFactory, tokens: dict[str, list[str]], sockets: list[Socket]
) -> None:
    server = make_server()
    async with http_client(server) as http:
        clients = Clients(http, tokens)
        admin, ann, bob, carl = (clients(u) for u in ("admin", "ann", "bob", "carl"))
        await make_project(admin, "lease", items=8, page_size=2, lease_seconds=LEASE)
        silent = await Socket.open(server, tokens["ann"][0], "lease")
        active = await Socket.open(server, tokens["bob"][0], "lease")
        sockets += [silent, active]

        page = await ann.page("lease")
        assert page["items"] == ["t000", "t001"]
        assert page["lease_until"] is not None
        drawn = await ann.gestures("lease", "t000", tag("a"))
        stroke_id = drawn["recorded"][0]["event_id"]
        assert (await bob.page("lease"))["items"] == ["t002", "t003"]
        beating = asyncio.create_task(heartbeats(active, every=0.3))
        try:
            # ann sends no heartbeat: she is warned, then her page is taken back, live.
            warning = await silent.wait(
                lambda f: f["type"] == "notice" and f["kind"] == "lease_warning"
            )
            assert warning["lease_until"] == page["lease_until"]
            notice = await silent.wait(
                lambda f: f["type"] == "notice" and f["kind"] == "reassigned", within=LEASE + 5
            )
            assert "lease" in notice["message"]
            at = silent.frames.index(notice)
            emptied = await silent.wait(lambda f: f["type"] == "page", start=at)
            assert emptied["items"] == []
            assert emptied["lease_until"] is None

            # Another labeler who asks gets her items.
            assert (await carl.page("lease"))["items"] == ["t000", "t001"]

            # Her late writes are refused and write nothing.
            before = await admin.last_seq()
            late = await ann.submit("lease", status=409)
            assert late["error"]["code"] == "lease_lost", late
            late = await ann.gestures("lease", "t001", tag("b"), status=409)
            assert late["error"]["code"] == "lease_lost", late
            assert "page" in late["error"]["message"] or "lease" in late["error"]["message"]
            rejected = await silent.request(
                {
                    "type": "append",
                    "item": "t000",
                    "events": [{"event_id": new_id(), "event": tag("c")}],
                }
            )
            assert rejected["type"] == "reject", rejected
            assert rejected["error"]["code"] == "lease_lost"
            assert await admin.last_seq() == before

            # Her stroke stays in the item's history.
            history = await clients("audrey").get("/api/projects/lease/items/t000/history")
            mine = [e for e in history["events"] if e["event_id"] == stroke_id]
            assert len(mine) == 1
            assert mine[0]["actor"] == "ann"
            assert mine[0]["event"] == tag("a")

            # bob kept beating: his lease was renewed past its first end, and he was never
            # told to go; he can still submit.
            assert len(active.of_type("lease")) > 3
            latest = active.of_type("lease")[-1]["lease_until"]
            assert latest > page["lease_until"] + 1
            assert not [f for f in active.of_type("notice") if f["kind"] == "reassigned"], (
                active.of_type("notice")
            )
            for item in ("t002", "t003"):
                await bob.gestures("lease", item, tag("b"))
            assert sorted((await bob.submit("lease"))["submitted"]) == ["t002", "t003"]
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating

        # Signing out gives carl's page back at once; ann asks again and finds her draft.
        signed_out = await carl.call("DELETE", "/api/session")
        assert signed_out["signed_out"] == "carl"
        again = await ann.page("lease")
        assert again["items"] == ["t000", "t001"]
        state = await ann.state("lease", "t000")
        assert state["drafts"]["ann"]["tags"] == ["a"]
