"""The websocket: resuming with `after` (no gap, no duplicate), co-presence on one item, and
bad messages answered with reject frames on a connection that stays usable."""

import asyncio
import contextlib
import random
from typing import Any

from tests.server.clients import Api, Clients, make_project, new_id, read_log, tag
from tests.server.servers import Server
from tests.server.sockets import Socket


def seqs_of(socket: Socket) -> list[int]:
    return [event["seq"] for event in socket.events()]


def assert_in_order(seqs: list[int]) -> None:
    duplicates = sorted({s for s in seqs if seqs.count(s) > 1})
    assert not duplicates, f"delivered twice: {duplicates}"
    assert seqs == sorted(seqs), "delivered out of order"


async def write_gestures(
    ann: Api, project: str, items: list[str], batches: int, stop: asyncio.Event | None = None
) -> None:
    for index in range(batches):
        if stop is not None and stop.is_set():
            return
        item = items[index % len(items)]
        await ann.gestures(project, item, tag("abc"[index % 3]), tag("abc"[(index + 1) % 3]))


async def test_reconnect_with_after_misses_nothing_and_repeats_nothing(
    server: Server, clients: Clients, tokens: dict[str, list[str]], sockets: list[Socket]
) -> None:
    admin, ann = clients("admin"), clients("ann")
    await make_project(admin, "resume", items=12, page_size=4)
    page = (await ann.page("resume"))["items"]
    await write_gestures(ann, "resume", page, 5)

    # The auditor sees every event of the project; the labeler bob only the item he watches.
    auditor_seen: list[int] = []
    watcher_seen: list[dict[str, Any]] = []
    auditor_after = watcher_after = 0
    stop = asyncio.Event()
    writer = asyncio.create_task(write_gestures(ann, "resume", page, 10_000, stop))
    rng = random.Random(7)
    try:
        for _ in range(5):  # drop and resume while the writer keeps going
            auditor = await Socket.open(server, tokens["audrey"][0], "resume", after=auditor_after)
            watcher = await Socket.open(
                server, tokens["bob"][0], "resume", after=watcher_after, watch=["t000"]
            )
            sockets += [auditor, watcher]
            await asyncio.sleep(rng.uniform(0.05, 0.4))
            await auditor.close()
            await watcher.close()
            assert all(s > auditor_after for s in seqs_of(auditor))
            auditor_seen += seqs_of(auditor)
            auditor_after = max([auditor_after, *seqs_of(auditor)])
            assert all(s > watcher_after for s in seqs_of(watcher))
            watcher_seen += watcher.events()
            watcher_after = max([watcher_after, *seqs_of(watcher)])
        assert not writer.done(), "the writer stopped before the last reconnect"
        stop.set()
        await writer
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer

    last = await admin.last_seq()
    auditor = await Socket.open(server, tokens["audrey"][0], "resume", after=auditor_after)
    watcher = await Socket.open(
        server, tokens["bob"][0], "resume", after=watcher_after, watch=["t000"]
    )
    sockets += [auditor, watcher]
    if auditor_after < last:
        await auditor.wait(lambda f: f["type"] == "event" and f["data"]["seq"] == last)
    auditor_seen += seqs_of(auditor)
    watcher_seen += watcher.events()

    log = await read_log(admin, "resume")
    assert_in_order(auditor_seen)
    assert auditor_seen == [e["seq"] for e in log]
    # bob sees t000's events (all of them, once) and nothing of the other items' streams.
    assert_in_order([e["seq"] for e in watcher_seen])
    streams = {e["stream"] for e in watcher_seen}
    assert "item-resume-t000" in streams
    assert not {s for s in streams if s.startswith("item-")} - {"item-resume-t000"}
    watched = [e["seq"] for e in log if e["stream"] == "item-resume-t000"]
    assert [e["seq"] for e in watcher_seen if e["stream"] == "item-resume-t000"] == watched


async def test_catching_up_on_a_long_absence(
    server: Server, clients: Clients, tokens: dict[str, list[str]], sockets: list[Socket]
) -> None:
    """Thousands of missed events are sent in full to a client that reads them promptly."""
    admin, ann = clients("admin"), clients("ann")
    await make_project(admin, "long", items=4, page_size=4)
    page = (await ann.page("long"))["items"]
    for index in range(30):
        events = [tag("abc"[(index + n) % 3]) for n in range(100)]
        await ann.gestures("long", page[index % 4], *events)
    last = await admin.last_seq()
    assert last > 3000
    auditor = await Socket.open(server, tokens["audrey"][0], "long", caught_up=False)
    sockets.append(auditor)
    await auditor.wait(lambda f: f["type"] == "caught_up", within=30)
    assert auditor.close_code is None, f"dropped while catching up: {auditor.close_code}"
    assert seqs_of(auditor) == [e["seq"] for e in await read_log(admin, "long")]


async def test_viewers_of_one_item_see_each_other(
    server: Server, clients: Clients, tokens: dict[str, list[str]], sockets: list[Socket]
) -> None:
    admin, ann, bob = clients("admin"), clients("ann"), clients("bob")
    await make_project(admin, "copresence", items=3, page_size=1, overlap=2)
    assert (await ann.page("copresence"))["items"] == ["t000"]
    assert (await bob.page("copresence"))["items"] == ["t000"]

    def viewers(names: list[str]) -> Any:
        return lambda f: f["type"] == "presence" and f["viewers"] == names

    annsock = await Socket.open(server, tokens["ann"][0], "copresence", watch=["t000"])
    bobsock = await Socket.open(server, tokens["bob"][0], "copresence")
    audsock = await Socket.open(server, tokens["audrey"][0], "copresence")
    sockets += [annsock, bobsock, audsock]
    await bobsock.send({"type": "watch", "items": ["t000"]})
    await audsock.send({"type": "watch", "items": ["t000"]})
    everyone = ["ann", "audrey", "bob"]
    for socket in (annsock, bobsock, audsock):
        presence = await socket.wait(viewers(everyone))
        assert presence["stream"] == "item-copresence-t000"

    # ann draws over her socket: bob and the auditor see the stroke live.
    ack = await annsock.request(
        {"type": "append", "item": "t000", "events": [{"event_id": new_id(), "event": tag("a")}]}
    )
    assert ack["type"] == "ack", ack
    seq = ack["recorded"][0]["seq"]
    for socket in (bobsock, audsock):
        seen = await socket.wait(lambda f: f["type"] == "event" and f["data"]["seq"] == seq)
        assert seen["data"]["actor"] == "ann"
        assert seen["data"]["event"] == tag("a")

    # bob draws over HTTP: ann sees it on her socket.
    drawn = await bob.gestures("copresence", "t000", tag("b"))
    seq = drawn["recorded"][0]["seq"]
    seen = await annsock.wait(lambda f: f["type"] == "event" and f["data"]["seq"] == seq)
    assert seen["data"]["actor"] == "bob"

    # bob looks away: the others are told, and he no longer gets the item's strokes.
    await bobsock.send({"type": "watch", "items": []})
    await annsock.wait(viewers(["ann", "audrey"]))
    mark = bobsock.mark()
    drawn = await ann.gestures("copresence", "t000", tag("c"))
    seq = drawn["recorded"][0]["seq"]
    await audsock.wait(lambda f: f["type"] == "event" and f["data"]["seq"] == seq)
    await annsock.wait(lambda f: f["type"] == "event" and f["data"]["seq"] == seq)
    assert not [f for f in bobsock.frames[mark:] if f["type"] == "event"]

    # The auditor leaves by closing the socket: the labeler is told.
    await audsock.close()
    await annsock.wait(viewers(["ann"]))


async def test_bad_websocket_messages_are_rejected_and_the_socket_stays_usable(
    server: Server, clients: Clients, tokens: dict[str, list[str]], sockets: list[Socket]
) -> None:
    admin, ann = clients("admin"), clients("ann")
    await make_project(admin, "wsbad", items=4, page_size=1)
    assert (await ann.page("wsbad"))["items"] == ["t000"]
    socket = await Socket.open(server, tokens["ann"][0], "wsbad")
    sockets.append(socket)
    before = await admin.last_seq()
    event = {"event_id": new_id(), "event": tag("a")}
    bad: list[tuple[Any, str]] = [
        ("not json at all", "$"),
        ("[1, 2", "$"),
        ('"a string"', "$"),
        ({"type": "launch"}, "$"),
        ({"no": "type"}, "$"),
        ({"type": "append"}, "$"),
        ({"type": "append", "id": "r1", "item": "t000", "events": []}, "$.events"),
        ({"type": "append", "id": "r2", "item": "t000", "events": "x"}, "$.events"),
        ({"type": "append", "id": "r3", "item": "../t000", "events": [event]}, "$.item"),
        ({"type": "append", "id": "r4", "item": "t000", "events": [event], "extra": 1}, "$"),
        (
            {"type": "append", "id": "r5", "item": "t000", "events": [{"event_id": "e1"}]},
            "$.events[0]",
        ),
        (
            {
                "type": "append",
                "id": "r6",
                "item": "t000",
                "events": [{"event_id": "e2", "event": {"type": "annotation.nope"}}],
            },
            "$.events[0].event",
        ),
        (
            {
                "type": "append",
                "id": "r7",
                "item": "t000",
                "events": [{"event_id": "e3", "event": {"type": "queue.exhausted"}}],
            },
            "$.events[0].event",
        ),
        ({"type": "append", "id": "r8", "item": "t001", "events": [event]}, "item"),
        ({"type": "append", "id": "r9", "item": "zzz", "events": [event]}, "item"),
        (
            {
                "type": "append",
                "id": "r10",
                "item": "t000",
                "events": [{"event_id": "e4", "event": tag("no-such-tag")}],
            },
            "$.events[0].event.tag",
        ),
        ({"type": "watch", "items": "t000"}, "$.items"),
        ({"type": "watch", "items": ["t000"] * 101}, "$.items"),
        ({"type": "heartbeat", "now": 1}, "$"),
        ({"type": "hello", "project": "wsbad"}, "$"),
        (b"\x00\x01binary", "$"),
        ("x" * 200_000, "$"),
    ]
    for message, field in bad:
        mark = socket.mark()
        await socket.send(message)
        reject = await socket.wait(lambda f: f["type"] == "reject", start=mark)
        error = reject["error"]
        assert error["message"], reject
        assert error["code"] in {"invalid", "bad_request", "lease_lost", "not_found"}, reject
        assert error.get("field", "$").startswith(field), (message, reject)
    assert socket.close_code is None
    assert await admin.last_seq() == before

    ack = await socket.request(
        {"type": "append", "item": "t000", "events": [{"event_id": new_id(), "event": tag("a")}]}
    )
    assert ack["type"] == "ack", ack
    assert len(ack["recorded"]) == 1
    mark = socket.mark()
    await socket.send({"type": "heartbeat"})
    lease = await socket.wait(lambda f: f["type"] == "lease", start=mark)
    assert lease["lease_until"] is not None


async def test_hello_must_name_a_project_the_caller_may_read(
    server: Server, clients: Clients, tokens: dict[str, list[str]]
) -> None:
    await make_project(clients("admin"), "hello", items=1)
    cases: list[tuple[Any, str, str]] = [
        ({"type": "hello", "project": "hello"}, "unauthorized", ""),
        ({"type": "hello", "project": "hello", "token": "tok_nope"}, "unauthorized", ""),
        ({"type": "hello", "project": "nope", "token": tokens["ann"][0]}, "not_found", "project"),
        ({"type": "hello", "project": "hello", "token": tokens["olga"][0]}, "forbidden", "project"),
        ({"type": "hello", "token": tokens["ann"][0]}, "invalid", "$"),
        ({"type": "hello", "project": "hello", "after": -1}, "invalid", "$.after"),
        ("garbage", "invalid", "$"),
    ]
    for hello, code, field in cases:
        socket = await Socket.open(server, None, "", hello=False)
        try:
            await socket.send(hello)
            reject = await socket.wait(lambda f: f["type"] == "reject")
            assert reject["error"]["code"] == code, (hello, reject)
            assert reject["error"].get("field", "") == field, (hello, reject)
            assert await socket.closing() == 1008
        finally:
            await socket.close()
