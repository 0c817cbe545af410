"""Labelers racing for pages: no item is handed to more labelers at once than the overlap allows,
and never twice to the same labeler (even through two sessions of theirs)."""

import asyncio
from collections import Counter
from typing import Any

from tests.server.clients import Api, Clients, make_project, read_log, tag
from tests.server.servers import Server
from tests.server.sockets import Socket


def check_handouts(events: list[dict[str, Any]], overlap: int) -> dict[str, list[str]]:
    """Refolds the queue from the log, failing on any hand-out the rules forbid.

    Returns who submitted each item.
    """
    holders: dict[str, dict[str, str]] = {}
    submitted: dict[str, list[str]] = {}
    pages: dict[str, list[str]] = {}

    def release(session: str, items: list[str]) -> None:
        for item in items:
            holders.get(item, {}).pop(session, None)
            if item in pages.get(session, []):
                pages[session].remove(item)

    for recorded in events:
        event = recorded["event"]
        kind, session = event["type"], event.get("session_id", "")
        if kind == "queue.page_assigned":
            labeler = event["labeler"]
            for item in event["items"]:
                held = holders.setdefault(item, {})
                assert labeler not in held.values(), f"{item} handed to {labeler} twice at once"
                assert labeler not in submitted.get(item, []), f"{item} back to {labeler}"
                held[session] = labeler
                assert len(held) + len(submitted.get(item, [])) <= overlap, (
                    f"seq {recorded['seq']}: {item} held by {held} after {submitted.get(item)}"
                )
                pages.setdefault(session, []).append(item)
        elif kind == "queue.page_submitted":
            for item in event["items"]:
                assert holders[item].get(session) == event["labeler"], "submitted unheld item"
                submitted.setdefault(item, []).append(event["labeler"])
            release(session, event["items"])
        elif kind in {"queue.items_released", "queue.item_skipped"}:
            release(session, event.get("items") or [event["item"]])
        elif kind in {"queue.session_expired", "queue.session_closed"}:
            release(session, list(pages.get(session, [])))
    return submitted


async def label_until_done(api: Api, project: str, handed: list[tuple[str, str]]) -> int:
    """Next page → tag each item → submit, until the queue says it is finished for them."""
    pages = 0
    while True:
        page = await api.page(project)
        if not page["items"]:
            assert page["finished"], page
            return pages
        pages += 1
        handed += [(api.name, item) for item in page["items"]]
        for item in page["items"]:
            await api.gestures(project, item, tag("a"))
        answer = await api.submit(project)
        assert sorted(answer["submitted"]) == sorted(page["items"])


async def burst(sessions: list[Api], project: str, calls_each: int) -> dict[str, list[str]]:
    """Every session asks for its page `calls_each` times at once; returns each one's page."""
    answers = await asyncio.gather(
        *(api.page(project) for api in sessions for _ in range(calls_each))
    )
    pages: dict[str, list[str]] = {}
    for index, answer in enumerate(answers):
        name = sessions[index // calls_each].name
        # A session asking again while it holds a page gets the same page back.
        assert pages.setdefault(name, answer["items"]) == answer["items"], name
    return pages


async def test_two_labelers_racing_never_share_an_item(clients: Clients) -> None:
    admin = clients("admin")
    items = await make_project(admin, "race", items=40, page_size=3)
    sessions = [clients(user, index) for user in ("ann", "bob") for index in range(4)]

    pages = await burst(sessions, "race", calls_each=3)
    first = Counter(item for page in pages.values() for item in page)
    assert len(first) == 24
    assert max(first.values()) == 1, first

    handed: list[tuple[str, str]] = [(name, i) for name, page in pages.items() for i in page]
    for api in sessions:  # label the pages of the burst, then race for the rest
        for item in pages[api.name]:
            await api.gestures("race", item, tag("b"))
        await api.submit("race")
    await asyncio.gather(*(label_until_done(api, "race", handed) for api in sessions))

    counts = Counter(item for _, item in handed)
    assert sorted(counts) == items
    assert set(counts.values()) == {1}, counts
    stats = await admin.get("/api/projects/race/stats")
    assert (stats["progress"]["done"], stats["counts"]["open"]) == (40, 0)
    submitted = check_handouts(await read_log(admin, "race"), overlap=1)
    assert {i: len(who) for i, who in submitted.items()} == dict.fromkeys(items, 1)


async def test_overlap_hands_each_item_to_k_different_labelers(clients: Clients) -> None:
    admin = clients("admin")
    items = await make_project(admin, "overlap", items=18, page_size=2, overlap=2)
    ann = [clients("ann", index) for index in range(3)]
    handed: list[tuple[str, str]] = []

    # Three sessions of one labeler race: each item reaches ann once, through one session.
    await asyncio.gather(*(label_until_done(api, "overlap", handed) for api in ann))
    assert Counter(item for _, item in handed) == dict.fromkeys(items, 1)
    listed = (await admin.get("/api/projects/overlap/items"))["items"]
    assert all(entry["submitted_by"] == ["ann"] for entry in listed)
    stats = await admin.get("/api/projects/overlap/stats")
    assert (stats["progress"]["done"], stats["counts"]["open"]) == (0, 18)  # 1 submit of 2

    again = await ann[0].page("overlap")
    assert (again["items"], again["finished"]) == ([], True)

    # Then bob and carl race for the second label of each item.
    others = [clients(user, index) for user in ("bob", "carl") for index in range(3)]
    handed = []
    await asyncio.gather(*(label_until_done(api, "overlap", handed) for api in others))
    assert Counter(item for _, item in handed) == dict.fromkeys(items, 1)
    listed = (await admin.get("/api/projects/overlap/items"))["items"]
    for entry in listed:
        who = entry["submitted_by"]
        assert len(set(who)) == len(who) == 2, entry
        assert who[0] == "ann", entry
    stats = await admin.get("/api/projects/overlap/stats")
    assert (stats["progress"]["done"], stats["counts"]["open"]) == (18, 0)
    submitted = check_handouts(await read_log(admin, "overlap"), overlap=2)
    assert all(len(set(who)) == 2 for who in submitted.values())
    assert len(submitted) == 18


async def test_skipped_items_go_to_others_and_the_end_is_announced(
    server: Server, clients: Clients, tokens: dict[str, list[str]], sockets: list[Socket]
) -> None:
    admin, ann, bob = clients("admin"), clients("ann"), clients("bob")
    await make_project(admin, "skips", items=3, page_size=2)
    socket = await Socket.open(server, tokens["ann"][0], "skips")
    sockets.append(socket)
    assert (await ann.page("skips"))["items"] == ["t000", "t001"]
    skipped = await ann.post("/api/projects/skips/skip", {"item": "t000"})
    assert skipped["items"] == ["t001"]
    assert (await bob.page("skips"))["items"] == ["t000", "t002"]
    await ann.gestures("skips", "t001", tag("a"))
    await ann.submit("skips")
    # Nothing is left for ann (t000 she skipped, t002 is bob's): she is told so, live too.
    mark = socket.mark()
    done = await ann.page("skips")
    assert (done["items"], done["finished"]) == ([], True)
    notice = await socket.wait(lambda f: f["type"] == "notice", start=mark)
    assert notice["kind"] == "finished"
    listed = {
        e["item"]["item_id"]: e for e in (await admin.get("/api/projects/skips/items"))["items"]
    }
    assert listed["t000"]["held_by"] == ["bob"]
    assert listed["t001"]["submitted_by"] == ["ann"]
