"""The PostgreSQL half of the append benchmark: PostgresStore appenders in 1 to P OS processes
(a store each, on one log, as web processes are), against raw asyncpg inserting the same rows."""

import asyncio
import multiprocessing
import statistics
import time

import asyncpg
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
from postgres import drop_schema, fresh_schema, server_settings

from events.envelope import NewEvent
from events.postgres_appends import INSERT
from events.postgres_store import PostgresStore
from events.project import ProjectCreated


async def pg_appenders(url: str, indexes: range, deadline: float) -> list[float]:
    """The appenders `indexes` on a store of their own until `deadline` (time.monotonic)."""
    store = await PostgresStore.open(url)
    try:
        latencies: list[float] = []

        def running() -> bool:
            return time.monotonic() < deadline

        await asyncio.gather(*(append_until(store, i, running, latencies) for i in indexes))
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
