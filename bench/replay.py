"""Replay benchmark: reproject 1M mixed annotation events across 10k items.

Writes a log of realistic gestures (tags, boxes, polygons, brush strokes, spans, some undos)
straight into a SQLite store file, then times, side by side and several times each:
  raw      read the same rows through the same connection and decode them into dicts;
  rebuild  annolog's reprojection (read, decode into typed events, fold, final checkpoint).
Afterwards it holds the projection and measures the longest garbage-collector pause.

    python bench/replay.py             # 1M events, 3 runs
    python bench/replay.py --events 200000 --runs 1
"""

import argparse
import asyncio
import gc
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import aiosqlite
import msgspec

from events.annotation import (
    ActionUndone,
    BoxDrawn,
    BoxMoved,
    BrushPainted,
    PolygonDrawn,
    SpanTagged,
    TagApplied,
)
from events.codec import encode
from events.envelope import Recorded
from events.project import ImportedItem, ItemsImported, ProjectCreated, TagsDefined, TagSpec
from events.projections.replay import rebuild
from events.queue import PageAssigned, PageSubmitted, SessionOpened
from events.sqlite_store import SCHEMA, SQLiteStore
from events.vocabulary import EVENT_TAGS

PROJECTS = {
    "boxes": "bounding_boxes",
    "polys": "polygons",
    "paint": "semantic_segmentation",
    "ner": "ner",
    "tags": "image_multilabel",
}
TAGS = ["cat", "dog", "car", "tree", "person"]
HASH = "0" * 64


def make_log(path: Path, total: int, items: int, seed: int = 7) -> None:
    """Writes `total` events (settings, queue and gestures) into a fresh store file."""
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SCHEMA)
    rows: list[tuple[object, ...]] = []
    seq = 0
    versions: dict[str, int] = {}
    last_ids: dict[tuple[str, str], list[str]] = {}

    def add(stream: str, event: object, actor: str = "admin") -> None:
        nonlocal seq
        seq += 1
        version = versions[stream] = versions.get(stream, 0) + 1
        recorded = Recorded(
            seq=seq,
            stream=stream,
            version=version,
            event_id=f"e{seq}",
            actor=actor,
            session="s",
            at=1.8e9 + seq / 1000,
            event=event,  # type: ignore[arg-type]
        )
        rows.append(
            (
                seq,
                stream,
                version,
                f"e{seq}",
                EVENT_TAGS[type(event)],
                actor,
                recorded.at,
                encode(recorded),
            )
        )
        if len(rows) >= 50_000:
            flush()

    def flush() -> None:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
        rows.clear()

    per_project = items // len(PROJECTS)
    for project, kind in PROJECTS.items():
        add(
            f"project-{project}",
            ProjectCreated(project_id=project, name=project, project_type=kind),
        )  # type: ignore[arg-type]
        add(
            f"project-{project}",
            TagsDefined(tags=[TagSpec(name=t, colour="#336699") for t in TAGS]),
        )
        for start in range(0, per_project, 1000):
            add(
                f"project-{project}",
                ItemsImported(
                    items=[
                        ImportedItem(
                            item_id=f"i{n}",
                            kind="image",
                            content_hash=HASH,
                            size_bytes=1000,
                            width=512,
                            height=512,
                        )
                        for n in range(start, min(per_project, start + 1000))
                    ]
                ),
            )
    names = list(PROJECTS)
    labelers = [f"user{n}" for n in range(20)]
    while seq < total:
        project = rng.choice(names)
        item = f"i{rng.randrange(per_project)}"
        # One to three labelers work on an item (the project's overlap), not everyone.
        number = int(item[1:])
        labeler = labelers[(number + rng.randrange(1 + number % 3)) % len(labelers)]
        stream = f"item-{project}-{item}"
        roll = rng.random()
        kind = PROJECTS[project]
        region = f"r{seq}"
        if roll < 0.005 and last_ids.get((stream, labeler)):
            event: object = ActionUndone(target=last_ids[(stream, labeler)].pop())
        elif roll < 0.01:
            sid = f"s{seq}"
            queue = f"queue-{project}"
            add(queue, SessionOpened(session_id=sid, user=labeler, lease_until=2e9), labeler)
            add(
                queue,
                PageAssigned(session_id=sid, labeler=labeler, items=[item], lease_until=2e9),
                labeler,
            )
            event = PageSubmitted(session_id=sid, labeler=labeler, items=[item])
            add(queue, event, labeler)
            continue
        elif kind == "bounding_boxes":
            x, y = rng.uniform(0, 400), rng.uniform(0, 400)
            event = BoxDrawn(region_id=region, tag=rng.choice(TAGS), x=x, y=y, w=50.0, h=40.0)
            if roll > 0.7 and last_ids.get((stream, labeler)):
                event = BoxMoved(region_id=f"r{last_ids[(stream, labeler)][-1][1:]}", x=x, y=y)
        elif kind == "polygons":
            points = [(rng.uniform(0, 500), rng.uniform(0, 500)) for _ in range(rng.randint(3, 10))]
            event = PolygonDrawn(region_id=region, tag=rng.choice(TAGS), points=points)
        elif kind == "semantic_segmentation":
            x, y = rng.uniform(0, 480), rng.uniform(0, 480)
            points = [(x + i * 3.0, y + i * 2.0) for i in range(10)]
            event = BrushPainted(stroke_id=region, tag=rng.choice(TAGS), radius=6.0, points=points)
        elif kind == "ner":
            start = rng.randrange(0, 500)
            event = SpanTagged(span_id=region, tag=rng.choice(TAGS), start=start, end=start + 5)
        else:
            event = TagApplied(tag=rng.choice(TAGS))
        add(stream, event, labeler)
        if not isinstance(event, ActionUndone):
            last_ids.setdefault((stream, labeler), []).append(f"e{seq}")
    flush()
    conn.close()


async def raw_baseline(path: Path) -> tuple[float, int]:
    """Reads every row through aiosqlite in the store's pages and decodes them into dicts."""
    conn = await aiosqlite.connect(str(path))
    decode = msgspec.msgpack.decode
    started = time.perf_counter()
    after, count = 0, 0
    while True:
        rows = await conn.execute_fetchall(
            "SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (after, 10_000)
        )
        if not rows:
            break
        decoded = [decode(body) for (body,) in rows]
        after = decoded[-1]["seq"]
        count += len(decoded)
    elapsed = time.perf_counter() - started
    await conn.close()
    return elapsed, count


async def reprojection(path: Path) -> tuple[float, float, int]:
    """Seconds for the whole rebuild, seconds until the last event was folded, events."""
    store = await SQLiteStore.open(path)
    started = time.perf_counter()
    folded = [0.0]

    def progress(done: int, total: int) -> None:
        if done >= total:
            folded[0] = time.perf_counter() - started

    workspace = await rebuild(store, store, fresh=True, progress=progress)
    elapsed = time.perf_counter() - started
    await store.close()
    count = workspace.seq
    del workspace
    gc.unfreeze()
    gc.collect()
    return elapsed, folded[0], count


async def gc_pauses(path: Path) -> tuple[float, float]:
    """The longest automatic collection and an explicit full one, with the projection held."""
    store = await SQLiteStore.open(path)
    workspace = await rebuild(store, store, fresh=True)
    await store.close()
    pauses: list[float] = []
    begun = [0.0]

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            begun[0] = time.perf_counter()
        else:
            pauses.append(time.perf_counter() - begun[0])

    gc.callbacks.append(watch)
    churn = []
    for n in range(2_000_000):  # ordinary request-like garbage, enough to reach gen 2
        churn.append({"n": n, "l": [n]})
        if len(churn) > 1000:
            churn.clear()
    started = time.perf_counter()
    gc.collect()
    explicit = time.perf_counter() - started
    gc.callbacks.remove(watch)
    assert workspace.seq > 0
    return max(pauses, default=0.0), explicit


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "replay.db"
        started = time.perf_counter()
        make_log(path, args.events, args.items)
        print(
            f"wrote {args.events:,} events over {args.items:,} items in "
            f"{time.perf_counter() - started:.1f} s"
        )
        raw_rates: list[float] = []
        rebuild_rates: list[float] = []
        fold_rates: list[float] = []
        for run in range(args.runs):
            raw_s, raw_n = asyncio.run(raw_baseline(path))
            rebuild_s, fold_s, rebuild_n = asyncio.run(reprojection(path))
            fold_rates.append(rebuild_n / fold_s)
            raw_rates.append(raw_n / raw_s)
            rebuild_rates.append(rebuild_n / rebuild_s)
            print(
                f"run {run + 1}: raw {raw_n / raw_s:,.0f} ev/s,"
                f" rebuild {rebuild_n / rebuild_s:,.0f} ev/s"
            )
        raw, rebuilt = statistics.median(raw_rates), statistics.median(rebuild_rates)
        print(f"median raw read+decode to dicts: {raw:,.0f} events/s")
        print(f"median reprojection:             {rebuilt:,.0f} events/s")
        print(
            f"  of which folding alone:        {statistics.median(fold_rates):,.0f} events/s"
            " (the rest writes the final checkpoint)"
        )
        print(
            f"ratio reprojection/raw:          {rebuilt / raw:.2f} (target >= 0.75; >= 100k ev/s)"
        )
        longest, explicit = asyncio.run(gc_pauses(path))
        print(
            f"GC with the projection held: longest automatic pause {longest * 1000:.1f} ms, "
            f"explicit full collection {explicit * 1000:.1f} ms (target <= 50 ms)"
        )


if __name__ == "__main__":
    main()
