"""Labelers benchmark: N simulated labelers against a real uvicorn on SQLite, over HTTP + websocket.

Each labeler has its own API token, one keep-alive HTTP/1.1 connection and one websocket
(hello with its token, `watch` of its page's items, a heartbeat every 10 s; every frame the
server pushes is read). It loops as fast as the server answers:

    POST /api/projects/P/page                  next page (9 items of a text_multiclass project)
    POST /api/projects/P/items/I/events        one TagApplied per item, in turn
    POST /api/projects/P/submit                the whole page

Each run starts a fresh server on a copy of a file holding only the users and tokens, makes
the project through the API (tags, members, JSONL items: more than can be labeled), lets the
labelers run for a warm-up, then measures for a fixed time: items submitted per second,
next-page / submit / gesture latency (request written to answer read), the server process's
CPU seconds per submitted item (/proc), and the load generator's own CPU. After the run the
server is stopped and its log is read back from the SQLite file to count duplicate hand-outs:
an item held by more sessions at once than the project's overlap, or handed to one labeler
twice (and, from the labelers' side, an item that was on more than `overlap` labelers' pages).

Figures are medians of the runs for each N. Targets (issue 3), at 50 labelers on the 2-core
machine: >= 400 items/s, next-page p99 <= 50 ms, zero duplicates.

With `--database postgresql://...` every N also runs against PostgreSQL with 1, 2 and 4 web
processes (`--processes`) on one database (a fresh copy of the accounts per run), the labelers
spread over the processes (each keeps to one, as behind a sticky proxy); the figures are the
same, with the ratio of items/s to the SQLite run and the 409 conflicts (a page or submit
decision that lost five races in a row to another process, asked again).

    python bench/labelers.py               # N = 10, 50, 200; 3 runs of 20 s each
    python bench/labelers.py --quick       # N = 10, 50; 1 run of 5 s each
    python bench/labelers.py --labelers 50 --runs 5 --seconds 30
    python bench/labelers.py --database postgresql://postgres@127.0.0.1:5432/postgres
"""

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from accounts import Accounts, copy_accounts, make_accounts
from handouts import duplicates_in_log
from labeler_loop import OVERLAP, PAGE_SIZE, Labeler, Stats, connect, label, make_project
from postgres import fresh_database, server_settings
from postgres import log_bodies as pg_log_bodies
from server_process import Server, log_bodies, own_cpu, percentile

from server.migrate import migrate_sqlite_to_postgres

# Items imported per run: more than the fastest server could hand out in the run.
ITEMS_PER_SECOND_CEILING = 4_500
TARGET_ITEMS_PER_SECOND = 400
TARGET_NEXT_P99_MS = 50
PEER = "Label Studio 1.23 here: 1-3 annotations/s, next task p50 21-31 s, 12-18% duplicates"
PROCESSES = [1, 2, 4]
ACCOUNTS_DATABASE = "annolog_bench_accounts"
RUN_DATABASE = "annolog_bench_run"


@dataclass
class RunResult:
    labelers: int
    items_per_s: float
    next_p50: float
    next_p99: float
    submit_p50: float
    submit_p99: float
    gesture_p50: float
    gesture_p99: float
    duplicates: int
    server_cpu_per_item_ms: float
    server_cpu_share: float
    client_cpu_share: float
    frames_per_s: float
    errors: int
    conflicts: int = 0


async def run_once(
    accounts: Accounts,
    directory: Path,
    n: int,
    warmup: float,
    seconds: float,
    seed: int,
    postgres: str | None = None,
    processes: int = 1,
) -> RunResult:
    if postgres is None:
        database = copy_accounts(accounts, directory)
        servers = [Server(database)]
    else:
        # A copy of the accounts' database; every process serves it, media shared.
        await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
        url = await fresh_database(postgres, RUN_DATABASE, template=ACCOUNTS_DATABASE)
        env = {"DATABASE_URL": url, "ANNOLOG_MEDIA_DIR": str(directory / "media")}
        servers = [Server(directory / "unused.db", env) for _ in range(processes)]
    await asyncio.gather(*(server.start() for server in servers))
    server = servers[0]
    names = sorted(accounts.tokens)[:n]
    labelers = [Labeler(name, accounts.tokens[name]) for name in names]
    try:
        await make_project(
            server.port,
            accounts.admin,
            names,
            int(ITEMS_PER_SECOND_CEILING * (warmup + seconds)) + PAGE_SIZE * n * 2,
        )
        await asyncio.gather(
            *(
                connect(labeler, servers[index % len(servers)].port)
                for index, labeler in enumerate(labelers)
            )
        )
        stats = Stats()
        now = time.perf_counter()
        start, deadline = now + warmup, now + warmup + seconds

        async def measure() -> tuple[float, float, int]:
            await asyncio.sleep(start - time.perf_counter())
            server_cpu, client_cpu = sum(s.cpu() for s in servers), own_cpu()
            frames = sum(labeler.frames for labeler in labelers)
            await asyncio.sleep(deadline - time.perf_counter())
            return (
                sum(s.cpu() for s in servers) - server_cpu,
                own_cpu() - client_cpu,
                sum(labeler.frames for labeler in labelers) - frames,
            )

        loops = [
            label(labeler, stats, start, deadline, seed * 1000 + index)
            for index, labeler in enumerate(labelers)
        ]
        measured = asyncio.create_task(measure())
        await asyncio.gather(*loops)
        server_cpu, client_cpu, frames = await measured
        for labeler in labelers:
            assert labeler.http is not None
            assert labeler.ws is not None
            labeler.http.close()
            labeler.ws.close()
    finally:
        for each in servers:
            each.stop()
    bodies = log_bodies(database) if postgres is None else await pg_log_bodies(url)
    if stats.finished:
        stats.errors.append(f"{stats.finished} labelers ran out of items: import more")
    for error in stats.errors[:5]:
        print(f"    error: {error}")
    submitted = max(stats.submitted, 1)
    return RunResult(
        labelers=n,
        items_per_s=stats.submitted / seconds,
        next_p50=percentile(stats.next_ms, 50),
        next_p99=percentile(stats.next_ms, 99),
        submit_p50=percentile(stats.submit_ms, 50),
        submit_p99=percentile(stats.submit_ms, 99),
        gesture_p50=percentile(stats.gesture_ms, 50),
        gesture_p99=percentile(stats.gesture_ms, 99),
        duplicates=duplicates_in_log(bodies, labelers),
        server_cpu_per_item_ms=server_cpu / submitted * 1000,
        server_cpu_share=server_cpu / seconds,
        client_cpu_share=client_cpu / seconds,
        frames_per_s=frames / seconds,
        errors=len(stats.errors),
        conflicts=stats.conflicts,
    )


def show(result: RunResult, label: str) -> None:
    r = result
    print(
        f"{label:>8} {r.labelers:>4} {r.items_per_s:>8.0f} "
        f"{r.next_p50:>6.1f} {r.next_p99:>6.1f}  {r.submit_p50:>6.1f} {r.submit_p99:>6.1f}  "
        f"{r.gesture_p50:>5.1f} {r.gesture_p99:>6.1f}  {r.duplicates:>4}  "
        f"{r.server_cpu_per_item_ms:>6.2f}  {r.server_cpu_share:>5.0%} {r.client_cpu_share:>5.0%}"
        f"  {r.frames_per_s:>7.0f}  {r.errors:>3}"
    )


def median_of(results: list[RunResult]) -> RunResult:
    def med(name: str) -> float:
        return float(statistics.median(getattr(r, name) for r in results))

    return RunResult(
        labelers=results[0].labelers,
        items_per_s=med("items_per_s"),
        next_p50=med("next_p50"),
        next_p99=med("next_p99"),
        submit_p50=med("submit_p50"),
        submit_p99=med("submit_p99"),
        gesture_p50=med("gesture_p50"),
        gesture_p99=med("gesture_p99"),
        duplicates=max(r.duplicates for r in results),
        server_cpu_per_item_ms=med("server_cpu_per_item_ms"),
        server_cpu_share=med("server_cpu_share"),
        client_cpu_share=med("client_cpu_share"),
        frames_per_s=med("frames_per_s"),
        errors=sum(r.errors for r in results),
        conflicts=sum(r.conflicts for r in results),
    )


async def main_async(args: argparse.Namespace) -> None:
    counts: list[int] = args.labelers or ([10, 50] if args.quick else [10, 50, 200])
    runs: int = args.runs or (1 if args.quick else 3)
    seconds: float = args.seconds or (5.0 if args.quick else 20.0)
    warmup: float = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    command = "python bench/labelers.py" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    with tempfile.TemporaryDirectory(prefix="annolog-bench-") as tmp:
        began = time.perf_counter()
        accounts = await make_accounts(Path(tmp), [f"lab{i:03d}" for i in range(max(counts))])
        print(
            f"made {max(counts)} labelers and their tokens in "
            f"{time.perf_counter() - began:.0f} s (argon2; not measured)"
        )
        print(
            f"text_multiclass, page {PAGE_SIZE}, overlap {OVERLAP}; {warmup:g} s warm-up, "
            f"then {seconds:g} s measured; {runs} run(s) per N"
        )
        if args.database:
            # The accounts, copied once by `annolog migrate`; each run starts from a copy.
            template = await fresh_database(args.database, ACCOUNTS_DATABASE)
            await migrate_sqlite_to_postgres(str(accounts.path), template)
            print(f"and on {await server_settings(args.database)}, P web processes")
        print(
            "     run    N  items/s   next p50/p99 ms  submit p50/p99   gesture p50/p99"
            "  dup  srv ms/item  srv  load  frames/s  err"
        )
        medians: list[RunResult] = []
        pg_medians: list[tuple[int, RunResult, RunResult]] = []
        for n in counts:
            results = []
            for run in range(runs):
                print(f"    (load average {os.getloadavg()[0]:.1f})")
                result = await run_once(
                    accounts, Path(tmp) / f"n{n}-r{run}", n, warmup, seconds, seed=run
                )
                show(result, f"run {run + 1}")
                if args.keep is not None:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(
                        Path(tmp) / f"n{n}-r{run}" / "annolog.db", args.keep / f"n{n}-r{run}.db"
                    )
                results.append(result)
            medians.append(median_of(results))
            show(medians[-1], "median")
            for count in args.processes if args.database else []:
                pg_results = []
                for run in range(runs):
                    result = await run_once(
                        accounts,
                        Path(tmp) / f"pg{count}-n{n}-r{run}",
                        n,
                        warmup,
                        seconds,
                        seed=run,
                        postgres=args.database,
                        processes=count,
                    )
                    show(result, f"pg P={count}")
                    pg_results.append(result)
                pg_medians.append((count, median_of(pg_results), medians[-1]))
                show(pg_medians[-1][1], f"med P={count}")
    print(f"\n`{command}` — medians of {runs} run(s), {seconds:g} s each, 2-core machine")
    print()
    print(
        "| labelers | items submitted/s | next page p50 / p99 | submit p50 / p99 "
        "| duplicate hand-outs | server CPU per item | server / load-generator CPU |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for m in medians:
        print(
            f"| {m.labelers} | {m.items_per_s:,.0f} | {m.next_p50:.1f} / {m.next_p99:.1f} ms "
            f"| {m.submit_p50:.1f} / {m.submit_p99:.1f} ms | {m.duplicates} "
            f"| {m.server_cpu_per_item_ms:.2f} ms | {m.server_cpu_share:.0%} / "
            f"{m.client_cpu_share:.0%} of a core |"
        )
    for m in medians:
        if m.labelers == 50:
            print(
                f"\nat 50 labelers: {m.items_per_s / TARGET_ITEMS_PER_SECOND:.2f}x the target of "
                f"{TARGET_ITEMS_PER_SECOND} items/s; next-page p99 {m.next_p99:.1f} ms "
                f"(target <= {TARGET_NEXT_P99_MS} ms); duplicates {m.duplicates} (target 0)"
            )
    if pg_medians:
        print()
        print(
            "| labelers | web processes (PostgreSQL) | items submitted/s | vs SQLite "
            "| next page p50 / p99 | duplicate hand-outs | conflicts (asked again) "
            "| server CPU per item |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for count, m, sqlite in pg_medians:
            print(
                f"| {m.labelers} | {count} | {m.items_per_s:,.0f} "
                f"| {m.items_per_s / sqlite.items_per_s:.2f}x "
                f"| {m.next_p50:.1f} / {m.next_p99:.1f} ms | {m.duplicates} | {m.conflicts} "
                f"| {m.server_cpu_per_item_ms:.2f} ms |"
            )
    print(f"baseline for scale: {PEER}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="N = 10, 50; one 5 s run each")
    parser.add_argument("--labelers", type=int, nargs="+", help="values of N")
    parser.add_argument("--runs", type=int, help="runs per N (default 3)")
    parser.add_argument("--seconds", type=float, help="measured seconds per run (default 20)")
    parser.add_argument("--warmup", type=float, help="seconds before measuring (default 2)")
    parser.add_argument("--keep", type=Path, help="copy each run's database into this folder")
    parser.add_argument(
        "--database", help="also run on PostgreSQL: postgresql://user@host:port/database"
    )
    parser.add_argument(
        "--processes", type=int, nargs="+", default=PROCESSES, help="PostgreSQL: web processes"
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
