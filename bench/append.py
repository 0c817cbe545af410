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
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from append_postgres import run_postgres
from append_workload import (
    APPENDERS,
    PROJECT,
    RAW_BATCH,
    RUNS,
    Result,
    append_until,
    median_of,
    raw_rows,
    summarize,
)

from events.envelope import NewEvent
from events.project import ProjectCreated
from events.sqlite_store import PRAGMAS, SCHEMA, SQLiteStore

PROCESSES = (1, 2, 4)


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

        def running() -> bool:
            return time.perf_counter() < deadline

        await asyncio.gather(
            *(append_until(store, i, running, latencies) for i in range(appenders))
        )
        elapsed = time.perf_counter() - start
        assert await store.last_seq() == len(latencies) + 1
        return summarize(len(latencies), elapsed, latencies)
    finally:
        await store.close()


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


if __name__ == "__main__":
    main()
