"""Append benchmark: concurrent single-event appenders against the SQLite store, vs raw sqlite3.

  store N   N appenders (asyncio tasks), each a loop of one-event appends to its own item
            stream (expected version = its last), for a fixed time, through SQLiteStore
            (WAL, synchronous=FULL, group commit). Ack latency: append call to return.
  raw       one sqlite3 connection (WAL, synchronous=FULL) inserting the same rows (same
            table schema, same stored body bytes) in batches of 100, one transaction each,
            for the same time; only the transactions are timed (rows are encoded between
            them). Ack latency: BEGIN to COMMIT returning, for every row of the batch.

Every figure is the median of 3 runs, each on a fresh file in a temporary directory.

With `--database postgresql://...` the same runs go to PostgresStore too (a fresh schema per
run), split over 1, 2 and 4 OS processes (`--processes`), each with a store of its own
appending to the one log, as web processes do; the baseline is raw asyncpg inserting the same
rows in batches of 100, one transaction each. Ratios are to that raw baseline and to the SQLite
store at the same number of appenders. Use a server with fsync and synchronous_commit on.

    python bench/append.py              # 3 s per run
    python bench/append.py --quick      # 0.5 s per run
    python bench/append.py --seconds 10
    python bench/append.py --database postgresql://postgres@127.0.0.1:5432/postgres
"""

import argparse
import asyncio
import multiprocessing
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from postgres import drop_schema, fresh_schema, server_settings

from events.annotation import BoxDrawn
from events.codec import encode
from events.envelope import NewEvent, Recorded
from events.postgres_appends import INSERT
from events.postgres_store import PostgresStore
from events.project import ProjectCreated
from events.sqlite_store import PRAGMAS, SCHEMA, SQLiteStore
from events.vocabulary import EVENT_TAGS

APPENDERS = (1, 10, 100, 1000)
PROCESSES = (1, 2, 4)
RUNS = 3
RAW_BATCH = 100
PROJECT = "bench"


@dataclass(frozen=True)
class Result:
    events_per_s: float
    p50_ms: float
    p99_ms: float


def gesture(appender: int, n: int) -> BoxDrawn:
    """A typical gesture: a box, its numbers varying a little."""
    return BoxDrawn(
        region_id=f"r{n}",
        tag="car",
        x=float(10 + n % 50),
        y=float(20 + appender % 50),
        w=32.5,
        h=18.0,
    )


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def summarize(count: int, elapsed: float, latencies: list[float]) -> Result:
    latencies.sort()
    return Result(
        count / elapsed, percentile(latencies, 0.50) * 1e3, percentile(latencies, 0.99) * 1e3
    )


async def run_store(directory: Path, appenders: int, seconds: float) -> Result:
    store = await SQLiteStore.open(directory / "store.sqlite3")
    try:
        project = ProjectCreated(project_id=PROJECT, name="Bench", project_type="bounding_boxes")
        await store.append(
            f"project-{PROJECT}", [NewEvent(event_id="created", event=project, actor="ann")], 0
        )
        latencies: list[float] = []
        start = time.perf_counter()
        deadline = start + seconds

        async def appender(index: int) -> None:
            stream = f"item-{PROJECT}-a{index}"
            version = 0
            clock = time.perf_counter
            record = latencies.append
            while clock() < deadline:
                event = NewEvent(
                    event_id=f"a{index}-{version}",
                    event=gesture(index, version),
                    actor="ann",
                    session="s1",
                )
                sent = clock()
                [recorded] = await store.append(stream, [event], version)
                record(clock() - sent)
                version = recorded.version

        await asyncio.gather(*(appender(i) for i in range(appenders)))
        elapsed = time.perf_counter() - start
        assert await store.last_seq() == len(latencies) + 1
        return summarize(len(latencies), elapsed, latencies)
    finally:
        await store.close()


def raw_rows(first_seq: int, count: int, now: float) -> list[tuple[object, ...]]:
    """The rows the store writes for single-event appends of 100 appenders, from `first_seq`."""
    rows: list[tuple[object, ...]] = []
    tag = EVENT_TAGS[BoxDrawn]
    for seq in range(first_seq, first_seq + count):
        appender, version = seq % 100, (seq - 2) // 100 + 1
        recorded = Recorded(
            seq=seq,
            stream=f"item-{PROJECT}-a{appender}",
            version=version,
            event_id=f"a{appender}-{version - 1}",
            actor="ann",
            session="s1",
            at=now,
            event=gesture(appender, version - 1),
        )
        rows.append(
            (seq, recorded.stream, version, recorded.event_id, tag, "ann", now, encode(recorded))
        )
    return rows


def run_raw(directory: Path, seconds: float) -> Result:
    """Batches of 100 rows, one transaction each, until `seconds` were spent writing them.

    Rows are encoded between transactions and that time is not counted: the baseline is
    SQLite's own speed at this schema, nothing of Python's.
    """
    conn = sqlite3.connect(directory / "raw.sqlite3", isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(SCHEMA)
        latencies: list[float] = []
        spent = 0.0
        seq = 2
        while spent < seconds:
            batch = raw_rows(seq, RAW_BATCH, time.time())
            seq += RAW_BATCH
            began = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO events (seq, stream, version, event_id, type, actor, at, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                batch,
            )
            conn.execute("COMMIT")
            took = time.perf_counter() - began
            spent += took
            latencies.extend([took] * len(batch))
        return summarize(len(latencies), spent, latencies)
    finally:
        conn.close()


async def pg_appenders(url: str, indexes: range, deadline: float) -> list[float]:
    """The appenders `indexes` on a store of their own until `deadline` (time.monotonic)."""
    store = await PostgresStore.open(url)
    try:
        latencies: list[float] = []

        async def appender(index: int) -> None:
            stream = f"item-{PROJECT}-a{index}"
            version = 0
            clock = time.perf_counter
            record = latencies.append
            while time.monotonic() < deadline:
                event = NewEvent(
                    event_id=f"a{index}-{version}",
                    event=gesture(index, version),
                    actor="ann",
                    session="s1",
                )
                sent = clock()
                [recorded] = await store.append(stream, [event], version)
                record(clock() - sent)
                version = recorded.version

        await asyncio.gather(*(appender(i) for i in indexes))
        return latencies
    finally:
        await store.close()


async def run_pg_store(url: str, appenders: int, seconds: float, processes: int) -> Result:
    """`appenders` split over `processes` OS processes, each on its own PostgresStore."""
    url = await fresh_schema(url)
    try:
        store = await PostgresStore.open(url)
        project = ProjectCreated(project_id=PROJECT, name="Bench", project_type="bounding_boxes")
        await store.append(
            f"project-{PROJECT}", [NewEvent(event_id="created", event=project, actor="ann")], 0
        )
        await store.close()
        if processes == 1:
            start = time.monotonic()
            latencies = await pg_appenders(url, range(appenders), start + seconds)
            elapsed = time.monotonic() - start
        else:
            latencies, elapsed = await asyncio.to_thread(
                run_processes, url, appenders, seconds, processes
            )
        check = await PostgresStore.open(url)
        try:
            assert await check.last_seq() == len(latencies) + 1
        finally:
            await check.close()
        return summarize(len(latencies), elapsed, latencies)
    finally:
        await drop_schema(url)


def run_processes(
    url: str, appenders: int, seconds: float, processes: int
) -> tuple[list[float], float]:
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    results: multiprocessing.Queue[tuple[list[float], float]] = context.Queue()
    readies = [context.Event() for _ in range(processes)]
    # Set once every process has opened its store: the clock starts for all at once.
    start = context.Value("d", 0.0)
    share = -(-appenders // processes)
    workers = []
    for number, ready in enumerate(readies):
        indexes = range(number * share, min(appenders, (number + 1) * share))
        workers.append(
            context.Process(
                target=pg_process, args=(url, indexes, start, seconds, ready, go, results)
            )
        )
    for worker in workers:
        worker.start()
    for ready in readies:
        ready.wait(60)
    start.value = time.monotonic()
    go.set()
    gathered = [results.get(timeout=seconds + 60) for _ in workers]
    for worker in workers:
        worker.join()
    latencies = [latency for part, _ in gathered for latency in part]
    return latencies, max(ended for _, ended in gathered) - start.value


def pg_process(
    url: str,
    indexes: range,
    start: "multiprocessing.sharedctypes.Synchronized[float]",
    seconds: float,
    ready: "multiprocessing.synchronize.Event",
    go: "multiprocessing.synchronize.Event",
    results: "multiprocessing.Queue[tuple[list[float], float]]",
) -> None:
    async def run() -> list[float]:
        # Imports and a first connection made before the clock starts, in every process.
        store = await PostgresStore.open(url)
        await store.close()
        ready.set()
        await asyncio.to_thread(go.wait)
        return await pg_appenders(url, indexes, start.value + seconds)

    latencies = asyncio.run(run())
    results.put((latencies, time.monotonic()))


async def run_pg_raw(url: str, seconds: float) -> Result:
    """Raw asyncpg: batches of 100 rows (the store's own insert), one transaction each."""
    url = await fresh_schema(url)
    try:
        store = await PostgresStore.open(url)  # the schema, made by the store's migrations
        await store.close()
        conn = await asyncpg.connect(url)
        try:
            latencies: list[float] = []
            spent = 0.0
            seq = 2
            while spent < seconds:
                batch = raw_rows(seq, RAW_BATCH, time.time())
                seq += RAW_BATCH
                columns = list(zip(*batch, strict=True))
                began = time.perf_counter()
                async with conn.transaction():
                    await conn.execute(INSERT, *map(list, columns), "bench_raw", str(seq))
                took = time.perf_counter() - began
                spent += took
                latencies.extend([took] * len(batch))
            return summarize(len(latencies), spent, latencies)
        finally:
            await conn.close()
    finally:
        await drop_schema(url)


def median_of(results: list[Result]) -> Result:
    return Result(
        statistics.median(r.events_per_s for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="0.5 s per run instead of 3 s")
    parser.add_argument("--seconds", type=float, help="seconds per store run")
    parser.add_argument(
        "--database", help="also run on PostgreSQL: postgresql://user@host:port/database"
    )
    parser.add_argument(
        "--processes", type=int, nargs="+", default=list(PROCESSES), help="PostgreSQL: OS processes"
    )
    args = parser.parse_args()
    seconds = args.seconds or (0.5 if args.quick else 3.0)
    assert "PRAGMA synchronous=FULL" in PRAGMAS, "the comparison assumes a durable store"

    raw_results = []
    store_results: dict[int, list[Result]] = {n: [] for n in APPENDERS}
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as directory:
            raw_results.append(run_raw(Path(directory), seconds))
        for appenders in APPENDERS:
            with tempfile.TemporaryDirectory() as directory:
                result = asyncio.run(run_store(Path(directory), appenders, seconds))
                store_results[appenders].append(result)

    raw = median_of(raw_results)
    print(
        f"bench/append.py: SQLite (WAL, synchronous=FULL); medians of {RUNS} runs, "
        f"store runs of {seconds:g} s"
    )
    print(f"{'':>14} {'events/s':>10} {'ack p50 ms':>11} {'ack p99 ms':>11} {'store/raw':>10}")
    print(
        f"{'raw batch-100':>14} {raw.events_per_s:>10.0f} {raw.p50_ms:>11.2f} {raw.p99_ms:>11.2f}"
    )
    ratios = {
        appenders: statistics.median(
            store.events_per_s / against.events_per_s
            for store, against in zip(results, raw_results, strict=True)
        )
        for appenders, results in store_results.items()
    }
    for appenders, results in store_results.items():
        store = median_of(results)
        ratio = ratios[appenders]
        label = f"store {appenders:>4}"
        print(
            f"{label:>14} {store.events_per_s:>10.0f} {store.p50_ms:>11.2f} "
            f"{store.p99_ms:>11.2f} {ratio:>10.2f}"
        )
    at_100 = median_of(store_results[100])
    rate_ok = ratios[100] >= 0.8
    p99_ok = at_100.p99_ms <= 30
    print(
        f"targets at 100 appenders: >= 80% of raw rate: {'met' if rate_ok else 'NOT met'} "
        f"({ratios[100]:.0%}); ack p99 <= 30 ms: {'met' if p99_ok else 'NOT met'} "
        f"({at_100.p99_ms:.1f} ms)"
    )
    print("store/raw: the median of each run's ratio to the raw run made just before it")
    if args.database:
        run_postgres(args.database, args.processes, seconds, store_results)


def run_postgres(
    url: str, processes: list[int], seconds: float, sqlite: dict[int, list[Result]]
) -> None:
    raw_results = []
    results: dict[tuple[int, int], list[Result]] = {}
    for _ in range(RUNS):
        raw_results.append(asyncio.run(run_pg_raw(url, seconds)))
        for count in processes:
            for appenders in APPENDERS:
                if appenders < count:
                    continue
                result = asyncio.run(run_pg_store(url, appenders, seconds, count))
                results.setdefault((count, appenders), []).append(result)
    raw = median_of(raw_results)
    print()
    print(
        f"bench/append.py: {asyncio.run(server_settings(url))}; medians of {RUNS} runs, "
        f"store runs of {seconds:g} s; appenders split over P processes, a store each"
    )
    print(
        f"{'':>16} {'events/s':>10} {'ack p50 ms':>11} {'ack p99 ms':>11} {'store/raw':>10}"
        f" {'/sqlite':>8}"
    )
    print(
        f"{'raw batch-100':>16} {raw.events_per_s:>10.0f} {raw.p50_ms:>11.2f} {raw.p99_ms:>11.2f}"
    )
    for (count, appenders), runs in results.items():
        store = median_of(runs)
        to_raw = statistics.median(
            run.events_per_s / against.events_per_s
            for run, against in zip(runs, raw_results, strict=True)
        )
        to_sqlite = store.events_per_s / median_of(sqlite[appenders]).events_per_s
        label = f"P={count} store {appenders:>4}"
        print(
            f"{label:>16} {store.events_per_s:>10.0f} {store.p50_ms:>11.2f} "
            f"{store.p99_ms:>11.2f} {to_raw:>10.2f} {to_sqlite:>8.2f}"
        )
    print("/sqlite: the PostgreSQL store's rate over the SQLite store's at the same appenders")


if __name__ == "__main__":
    main()
