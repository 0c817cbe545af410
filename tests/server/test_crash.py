"""Crash safety: kill -9 the server while 100 clients append, restart, retry what was not
acknowledged with the same event ids; every acknowledged event is then in the log exactly once
and the read model rebuilt from the log is the one served."""

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.server.clients import Api, Clients, http_client, make_project, new_id, read_log
from tests.server.servers import ServerFactory
from tests.server.test_restart import reproject

CLIENTS = 100
ROUNDS = 3


@dataclass
class Labeler:
    """One client: a session (API token) holding one item, and what the server acknowledged."""

    user: str
    token: str
    number: int
    item: str = ""
    spans: int = 0
    acked: dict[str, int] = field(default_factory=dict)  # event_id -> seq
    acked_spans: set[str] = field(default_factory=set)
    pending: list[dict[str, Any]] | None = None

    def api(self, http: httpx.AsyncClient) -> Api:
        return Api(http, self.token, self.user)

    def new_batch(self, rng: random.Random) -> list[dict[str, Any]]:
        batch = []
        for _ in range(rng.randint(1, 3)):
            self.spans += 1
            start = self.spans % 100
            span = {
                "type": "annotation.span_tagged",
                "span_id": f"s{self.number}-{self.spans}",
                "tag": "abc"[self.spans % 3],
                "start": start,
                "end": start + 5,
            }
            batch.append({"event_id": new_id(), "event": span})
        return batch

    async def send(self, http: httpx.AsyncClient, batch: list[dict[str, Any]]) -> bool:
        """Appends a batch; True once acknowledged, False if the server went away first."""
        try:
            response = await self.api(http).request(
                "POST", f"/api/projects/crash/items/{self.item}/events", json={"events": batch}
            )
        except httpx.TransportError:
            return False
        assert response.status_code == 200, response.text
        recorded = response.json()["recorded"]
        assert [r["event_id"] for r in recorded] == [e["event_id"] for e in batch]
        for sent, ack in zip(batch, recorded, strict=True):
            assert self.acked.setdefault(ack["event_id"], ack["seq"]) == ack["seq"]
            self.acked_spans.add(sent["event"]["span_id"])
        return True

    async def run(self, http: httpx.AsyncClient, stop: asyncio.Event, seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            self.pending = self.new_batch(rng)
            if not await self.send(http, self.pending):
                return
            self.pending = None


async def served(api: Api, labelers: list[Labeler]) -> dict[str, Any]:
    states = await asyncio.gather(
        *(api.get(f"/api/projects/crash/items/{c.item}/state") for c in labelers)
    )
    return {
        "project": await api.get("/api/projects/crash/state"),
        "items": {c.item: s for c, s in zip(labelers, states, strict=True)},
    }


@pytest.mark.timeout(120)
async def test_kill_9_while_100_clients_append(
    make_server: ServerFactory, tokens: dict[str, list[str]]
) -> None:
    started = time.monotonic()
    server = make_server()
    labelers = [
        Labeler(user, tokens[user][index], number)
        for number, (user, index) in enumerate(_sessions())
    ]
    async with http_client(server, connections=CLIENTS) as http:
        admin = Clients(http, tokens)("admin")
        await make_project(admin, "crash", "ner", items=CLIENTS, page_size=1)
        pages = await asyncio.gather(*(c.api(http).page("crash") for c in labelers))
        for labeler, page in zip(labelers, pages, strict=True):
            (labeler.item,) = page["items"]
        assert len({c.item for c in labelers}) == CLIENTS

    rng = random.Random(2024)
    killed_in_flight = 0
    for round_ in range(ROUNDS):
        stop = asyncio.Event()
        async with http_client(server, connections=CLIENTS) as http:
            tasks = [
                asyncio.create_task(c.run(http, stop, seed=round_ * 1000 + i))
                for i, c in enumerate(labelers)
            ]
            await asyncio.sleep(rng.uniform(0.8, 1.5))
            server.kill()
            stop.set()
            async with asyncio.timeout(30):
                await asyncio.gather(*tasks)
        pending = [c for c in labelers if c.pending is not None]
        killed_in_flight += len(pending)

        await server.astart()
        async with http_client(server, connections=CLIENTS) as http:
            admin = Clients(http, tokens)("admin")
            # Retry what was never acknowledged, with the same event ids.
            for labeler in pending:
                assert labeler.pending is not None
                assert await labeler.send(http, labeler.pending), "the server is down"
                labeler.pending = None

            acked = {event_id: seq for c in labelers for event_id, seq in c.acked.items()}
            log = [e for e in await read_log(admin, "crash") if e["stream"].startswith("item-")]
            counts = Counter(e["event_id"] for e in log)
            assert set(counts.values()) == {1}
            assert set(counts) == set(acked), "the log holds exactly the acknowledged events"
            assert {e["event_id"]: e["seq"] for e in log} == acked
            before = await served(admin, labelers)
            for labeler in labelers:
                draft = before["items"][labeler.item]["drafts"][labeler.user]
                assert set(draft["spans"]) == labeler.acked_spans, labeler.item
            done = await reproject(admin)
            assert done["equals_live"] is True, done

    # Killed again with nothing in flight: what restarts is what was served.
    server.kill()
    await server.astart()
    async with http_client(server) as http:
        after = await served(Clients(http, tokens)("admin"), labelers)
        assert after == before
    assert killed_in_flight > 0, "no batch was ever in flight at a kill"
    assert time.monotonic() - started < 60


def _sessions() -> list[tuple[str, int]]:
    """100 sessions: 34 of ann's tokens, 33 each of bob's and carl's."""
    return (
        [("ann", i) for i in range(34)]
        + [("bob", i) for i in range(33)]
        + [("carl", i) for i in range(33)]
    )


async def test_a_retried_batch_gets_its_original_answer(clients: Clients) -> None:
    """A batch that landed but whose ack was lost is retried as is, even when the checks
    would now refuse it (it was undone, the lease ended): the answer is the original one."""
    ann = clients("ann")
    await make_project(clients("admin"), "retry", items=2, page_size=1)
    await ann.page("retry")

    async def send(batch: list[dict[str, Any]], status: int = 200) -> Any:
        return await ann.post("/api/projects/retry/items/t000/events", {"events": batch}, status)

    drawn = [{"event_id": "draw-1", "event": {"type": "annotation.tag_applied", "tag": "a"}}]
    first = await send(drawn)
    undo = [{"event_id": "undo-1", "event": {"type": "annotation.undone", "target": "draw-1"}}]
    undone = await send(undo)
    last = await clients("admin").last_seq()
    assert await send(undo) == undone
    assert await send(drawn) == first
    assert (
        await ann.post(
            "/api/projects/retry/items/t000/events", {**{"events": drawn}, "expected_version": 0}
        )
        == first
    )
    await ann.call("DELETE", "/api/session")  # the page goes back: the lease has ended
    assert await send(undo) == undone
    assert await clients("admin").last_seq() == last + 1  # only the sign-out was written
    # The same ids with another event are not a retry: refused, and nothing is written.
    changed = [{"event_id": "draw-1", "event": {"type": "annotation.tag_applied", "tag": "b"}}]
    refused = await send(changed, 409)
    assert refused["error"]["code"] == "lease_lost"
    assert await clients("admin").last_seq() == last + 1
