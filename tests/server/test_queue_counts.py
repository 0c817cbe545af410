"""The hub's queue counts, kept event by event, equal a full count after every event."""

import random

import pytest

from events.assist import ItemsClustered, PrelabelProposed
from events.queue import PageAssigned, PageSubmitted, SessionOpened
from server.hub import Hub
from server.queue_counts import queue_counts
from tests.events.folding import Log


@pytest.mark.parametrize("seed", range(8))
def test_counts_follow_imports_submits_proposals_and_clusters(seed: int) -> None:
    rng = random.Random(seed)
    log = Log("image_multiclass", overlap=rng.choice([1, 2]))
    hub = Hub()
    published = 0
    items: list[str] = []

    def check() -> None:
        nonlocal published
        for recorded in log.events[published:]:
            hub.publish(recorded, log.workspace)
        published = len(log.events)
        assert hub.counts(log.project, log.state) == queue_counts(log.state)

    check()
    for step in range(300):
        roll = rng.random()
        if roll < 0.1 or not items:
            fresh = [f"i{len(items) + n}" for n in range(rng.randint(1, 6))]
            again = rng.sample(items, min(len(items), 2))  # imported twice: no change
            log.items(*fresh, *again)
            items += fresh
        elif roll < 0.5:
            labeler = rng.choice(["ann", "bob", "cy"])
            chosen = [
                i for i in rng.sample(items, min(3, len(items))) if i in log.state.queue.open_items
            ]
            if chosen:
                session = f"s{step}"
                log.queue(SessionOpened(session_id=session, user=labeler, lease_until=log.now + 60))
                log.queue(
                    PageAssigned(
                        session_id=session, labeler=labeler, items=chosen, lease_until=log.now + 60
                    )
                )
                log.queue(PageSubmitted(session_id=session, labeler=labeler, items=chosen))
        elif roll < 0.8:
            log.on(
                rng.choice(items),
                PrelabelProposed(round=1, model_hash="0" * 64, confidence=0.9, tags=["cat"]),
                labeler="assistant",
            )
        else:
            pool = rng.sample(items, min(len(items), 12))
            clusters = [pool[k : k + 4] for k in range(0, len(pool), 4)]
            if pool and rng.random() < 0.3:
                clusters.append([pool[0]])  # an item in two clusters counts twice
            log.add(f"assist-{log.project}", ItemsClustered(round=1, clusters=clusters))
        if rng.random() < 0.3:
            check()
    check()
