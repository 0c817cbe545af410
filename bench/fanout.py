"""Fan-out benchmark: 200 websocket clients watching one project while one labeler writes.

A real uvicorn serves a SQLite file. 200 clients (an auditor's token: they see every event
of the project) say hello and read every frame; one more client says hello and then never
reads again (its socket's receive buffer is made small so the server feels it soon). One
labeler appends a TagApplied on the items of its page at a fixed rate (100 events/s by
default) over keep-alive HTTP connections, each event's `event_id` carrying the time it was
sent. Each reader takes the delivery latency of every event frame as the time it read it
minus that send time: gesture sent -> committed -> folded -> fanned out -> read.

The stalled client costs the server nothing at first: the kernel keeps up to 4 MB of its
frames (tcp_wmem), minutes at 100 events/s, before the server's writes block and its queue
of 1,000 frames fills. So after the measured window the readers leave and an overflow phase
sends it large frames (imports of 1,000 items, which auditors receive whole) and then small
ones as fast as the server takes them; then it reads again and must find, after what was
buffered, the close with code 4008 (too slow). `--no-drop` skips that phase.

Figures per run, after a warm-up: server CPU µs per delivery (the server process's CPU time
over the measured window, /proc, divided by the event frames the 200 readers got in it; all
the server's work is charged: the writer's requests, commits, folds, progress pushes),
delivery p50/p99, deliveries per second, the load generator's own CPU, and what became of the
stalled client: whether the server closed it as too slow (code 4008) and how many frames it
had read. Medians of the runs. Targets (issue 3): <= 35 µs per delivery and p99 <= 100 ms at
100 events/s, the stalled client delaying no one.

    python bench/fanout.py              # 200 clients, 100 events/s, 3 runs of 20 s
    python bench/fanout.py --quick      # 1 run of 5 s
    python bench/fanout.py --clients 500 --rate 50
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from accounts import Accounts, copy_accounts, make_accounts
from fanout_clients import PROJECT, Reader, Writer, force_drop, make_project
from lean_clients import Ws
from server_process import Server, own_cpu, percentile, send_queue

from server.ws_client import TOO_SLOW

TARGET_US = 35
TARGET_P99_MS = 100


@dataclass
class RunResult:
    clients: int
    rate: float
    sent_per_s: float
    deliveries_per_s: float
    us_per_delivery: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    missing: int
    server_cpu_share: float
    client_cpu_share: float
    stalled_closed_with: int | None
    stalled_frames: int
    stalled_held_kb: float
    readers_closed: int


async def run_once(
    accounts: Accounts,
    directory: Path,
    clients: int,
    rate: float,
    warmup: float,
    seconds: float,
    drop: bool,
) -> RunResult:
    database = copy_accounts(accounts, directory)
    server = Server(database)
    await server.start()
    auditor, writer = accounts.tokens["aud"], accounts.tokens["writer"]
    readers = [Reader() for _ in range(clients)]
    sockets: list[Ws] = []
    try:
        await make_project(server.port, accounts.admin, "aud", "writer")
        for index in range(0, clients, 50):
            opened = await asyncio.gather(
                *(Ws.connect(server.port, r.on_text) for r in readers[index : index + 50])
            )
            for ws in opened:
                ws.send({"type": "hello", "project": PROJECT, "token": auditor})
            sockets += opened
        await asyncio.wait_for(asyncio.gather(*(r.caught_up.wait() for r in readers)), 60)
        stalled_reader = Reader()
        stalled = await Ws.connect(server.port, stalled_reader.on_text, receive_buffer=4096)
        stalled.send({"type": "hello", "project": PROJECT, "token": auditor})
        stalled.pause()

        now, wall = time.perf_counter(), time.time_ns()
        start, deadline = now + warmup, now + warmup + seconds
        for reader in readers:
            reader.low = wall + int(warmup * 1e9)
            reader.high = wall + int((warmup + seconds) * 1e9)

        async def measure() -> tuple[float, float]:
            await asyncio.sleep(start - time.perf_counter())
            server_cpu, client_cpu = server.cpu(), own_cpu()
            await asyncio.sleep(deadline - time.perf_counter())
            server_cpu, client_cpu = server.cpu() - server_cpu, own_cpu() - client_cpu
            return server_cpu, client_cpu

        measured = asyncio.create_task(measure())
        author = await Writer.open(server.port, writer)
        await author.run(rate, deadline)
        server_cpu, client_cpu = await measured
        held = send_queue(server.port, stalled.local_port) or 0
        await asyncio.sleep(1.0)  # the last events' frames
        readers_closed = sum(1 for ws in sockets if ws.closed.done())
        for ws in sockets:
            ws.close()
        if drop:
            await force_drop(server.port, accounts.admin, author)
        author.close()
        # The stalled client reads again: what it gets ends with the close the server sent.
        stalled.resume()
        try:
            closed_with: int | None = await asyncio.wait_for(asyncio.shield(stalled.closed), 20)
        except TimeoutError:
            closed_with = None
        stalled.close()
    finally:
        server.stop()
    low, high = readers[0].low, readers[0].high
    sent = sum(1 for stamp in author.stamps if low <= stamp < high)
    delivered = sum(r.events for r in readers)
    expected = sent * clients
    latencies = [ms for r in readers for ms in r.latencies]
    return RunResult(
        clients=clients,
        rate=rate,
        sent_per_s=sent / seconds,
        deliveries_per_s=delivered / seconds,
        us_per_delivery=server_cpu / max(delivered, 1) * 1e6,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        max_ms=max(latencies, default=0.0),
        missing=max(0, expected - delivered),
        server_cpu_share=server_cpu / seconds,
        client_cpu_share=client_cpu / seconds,
        stalled_closed_with=closed_with,
        stalled_frames=stalled_reader.frames,
        stalled_held_kb=held / 1024,
        readers_closed=readers_closed,
    )


def show(r: RunResult, label: str) -> None:
    stalled = f"{r.stalled_held_kb:.0f} KB held; " + (
        f"closed {r.stalled_closed_with} after {r.stalled_frames} frames"
        if r.stalled_closed_with is not None
        else f"NOT closed ({r.stalled_frames} frames)"
    )
    print(
        f"{label:>8} {r.clients:>5} {r.sent_per_s:>6.1f} {r.deliveries_per_s:>8.0f} "
        f"{r.us_per_delivery:>6.1f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} {r.max_ms:>7.1f} "
        f"{r.missing:>6} {r.server_cpu_share:>5.0%} {r.client_cpu_share:>5.0%}  {stalled}"
        + (f"; {r.readers_closed} READERS CLOSED" if r.readers_closed else "")
    )


async def main_async(args: argparse.Namespace) -> None:
    runs: int = args.runs or (1 if args.quick else 3)
    seconds: float = args.seconds or (5.0 if args.quick else 20.0)
    warmup: float = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    command = "python bench/fanout.py" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    results: list[RunResult] = []
    with tempfile.TemporaryDirectory(prefix="annolog-fanout-") as tmp:
        accounts = await make_accounts(Path(tmp), ["aud", "writer"])
        print(
            f"{args.clients} readers + 1 stalled client, {args.rate:g} events/s; "
            f"{warmup:g} s warm-up, {seconds:g} s measured; {runs} run(s)"
        )
        print(
            "     run  clients ev/s  deliv/s  µs/del  p50 ms  p99 ms  max ms missing   srv "
            " load  stalled client"
        )
        for run in range(runs):
            print(f"    (load average {os.getloadavg()[0]:.1f})")
            result = await run_once(
                accounts,
                Path(tmp) / f"r{run}",
                args.clients,
                args.rate,
                warmup,
                seconds,
                drop=not args.no_drop,
            )
            show(result, f"run {run + 1}")
            results.append(result)

    def med(name: str) -> float:
        return float(statistics.median(getattr(r, name) for r in results))

    closed = sum(1 for r in results if r.stalled_closed_with == TOO_SLOW)
    print(f"\n`{command}` — medians of {runs} run(s), {seconds:g} s each, 2-core machine")
    print()
    print(
        "| readers | events/s | deliveries/s | server CPU per delivery | delivery p50 / p99 "
        "| stalled client |"
    )
    print("|---:|---:|---:|---:|---:|---|")
    dropped = (
        f"closed as too slow ({TOO_SLOW}) in {closed} of {runs} runs"
        if not args.no_drop
        else "overflow phase skipped"
    )
    print(
        f"| {args.clients} | {med('sent_per_s'):.0f} | {med('deliveries_per_s'):,.0f} "
        f"| {med('us_per_delivery'):.1f} µs | {med('p50_ms'):.1f} / {med('p99_ms'):.1f} ms "
        f"| {med('stalled_held_kb'):.0f} KB in the kernel after the run; {dropped} |"
    )
    print(
        f"\n{med('us_per_delivery') / TARGET_US:.2f}x the CPU target of {TARGET_US} µs per "
        f"delivery; p99 {med('p99_ms'):.1f} ms (target <= {TARGET_P99_MS} ms); "
        f"missing deliveries {sum(r.missing for r in results)} (target 0)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one 5 s run")
    parser.add_argument("--clients", type=int, default=200, help="reading clients")
    parser.add_argument("--rate", type=float, default=100.0, help="events per second")
    parser.add_argument("--runs", type=int, help="runs (default 3)")
    parser.add_argument("--seconds", type=float, help="measured seconds per run (default 20)")
    parser.add_argument("--warmup", type=float, help="seconds before measuring (default 2)")
    parser.add_argument(
        "--no-drop",
        action="store_true",
        help="skip the phase that makes the stalled client overflow",
    )
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
