"""What the append benchmarks write, and how a run is summed up: the gesture appended, the
rows the store would store for it (for the raw baselines), latencies to figures."""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from events.annotation import BoxDrawn
from events.codec import encode
from events.envelope import NewEvent, Recorded
from events.store import EventStore
from events.vocabulary import EVENT_TAGS

APPENDERS = (1, 10, 100, 1000)
RUNS = 3
RAW_BATCH = 100
PROJECT = "bench"


@dataclass(frozen=True)
class Result:
    """The figures of one run: events per second and the ack latency p50 / p99."""

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


async def append_until(
    store: EventStore, index: int, running: Callable[[], bool], latencies: list[float]
) -> None:
    """Appender `index`: one gesture at a time on a stream of its own while `running()`."""
    stream = f"item-{PROJECT}-a{index}"
    version = 0
    clock = time.perf_counter
    record = latencies.append
    while running():
        event = NewEvent(
            event_id=f"a{index}-{version}", event=gesture(index, version), actor="ann", session="s1"
        )
        sent = clock()
        [recorded] = await store.append(stream, [event], version)
        record(clock() - sent)
        version = recorded.version


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def summarize(count: int, elapsed: float, latencies: list[float]) -> Result:
    latencies.sort()
    return Result(
        count / elapsed, percentile(latencies, 0.50) * 1e3, percentile(latencies, 0.99) * 1e3
    )


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


def median_of(results: list[Result]) -> Result:
    return Result(
        statistics.median(r.events_per_s for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
    )
