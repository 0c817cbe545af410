"""Properties of the log under random interleavings of appends, retries, reads and subscribers.

Hypothesis writes a program: a few clients, each a list of operations on a few item streams.
The clients run concurrently on one store; afterwards the log must be one total order
(seqs 1..n), every stream's versions dense, every acknowledged event present exactly once,
nothing else written, every retry answered with the original envelopes, and every reader and
subscriber must have seen a part of that same log.
"""

import asyncio
import tempfile
from collections import defaultdict
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.envelope import NewEvent, Recorded
from events.errors import ConcurrencyError
from tests.events.conftest import (
    BACKENDS,
    Backend,
    ManualClock,
    Store,
    create_project,
    read_everything,
    tagged,
)

STREAMS = 4
TIMEOUT = 20


@dataclass(frozen=True)
class Append:
    stream: int
    size: int
    expected: Literal["read", "tracked", "zero"]
    twice: bool  # the client sends it again before the first answer (a retry racing it)


@dataclass(frozen=True)
class Retry:
    which: int  # one of the client's acknowledged appends, sent again unchanged
    expected: int  # whatever version the retry claims; a retry ignores it


@dataclass(frozen=True)
class Read:
    after: int
    limit: int
    stream: int | None  # None: read_all


@dataclass(frozen=True)
class Follow:
    after: int  # a subscriber joins from here (or from the log's end, if that is nearer)


@dataclass(frozen=True)
class Pause:
    turns: int


Op = Append | Retry | Read | Follow | Pause

appends = st.builds(
    Append,
    st.integers(0, STREAMS - 1),
    st.integers(1, 3),
    st.sampled_from(["read", "read", "tracked", "tracked", "zero"]),
    st.booleans(),
)
ops = st.one_of(
    appends,
    appends,
    appends,
    st.builds(Retry, st.integers(0, 10), st.integers(0, 5)),
    st.builds(
        Read, st.integers(0, 30), st.integers(1, 10), st.none() | st.integers(0, STREAMS - 1)
    ),
    st.builds(Follow, st.integers(0, 20)),
    st.builds(Pause, st.integers(1, 3)),
)
programs = st.lists(st.lists(ops, min_size=3, max_size=25), min_size=2, max_size=8)


@dataclass
class Follower:
    """A subscriber's record of what it saw, and a flag raised once it has seen up to `end`."""

    start: int
    got: list[Recorded] = field(default_factory=list)
    end: int | None = None
    reached: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, store: Store) -> None:
        events = cast(AsyncGenerator[Recorded, None], store.subscribe(self.start))
        try:
            async for recorded in events:
                self.got.append(recorded)
                if self.end is not None and recorded.seq >= self.end:
                    self.reached.set()
        finally:
            await events.aclose()

    async def wait_for(self, end: int) -> None:
        self.end = end
        if (self.got[-1].seq if self.got else self.start) < end:
            await self.reached.wait()


@dataclass
class Ledger:
    """What the clients were told, to compare with the log afterwards."""

    acked: dict[str, Recorded] = field(default_factory=dict)
    seen: list[Recorded] = field(default_factory=list)
    followers: list[Follower] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def follow(self, store: Store, start: int) -> None:
        follower = Follower(start)
        self.followers.append(follower)
        self.tasks.append(asyncio.create_task(follower.run(store)))


def stream_name(index: int) -> str:
    return f"item-p-{index}"


def assert_dense_from(start: int, numbers: list[int]) -> None:
    assert numbers == list(range(start, start + len(numbers))), numbers


async def run_client(store: Store, client: int, program: list[Op], ledger: Ledger) -> None:
    tracked: dict[str, int] = defaultdict(int)
    acknowledged: list[tuple[str, list[NewEvent], list[Recorded]]] = []
    last_seen_seq = 0
    for step, op in enumerate(program):
        match op:
            case Append(stream=index, size=size, expected=how, twice=twice):
                stream = stream_name(index)
                events = [tagged(f"c{client}-{step}-{i}", f"t{i}") for i in range(size)]
                if how == "read":
                    expected = await store.stream_version(stream)
                else:
                    expected = tracked[stream] if how == "tracked" else 0
                sends = [store.append(stream, events, expected) for _ in range(1 + twice)]
                results = await asyncio.gather(*sends, return_exceptions=True)
                first = results[0]
                if isinstance(first, ConcurrencyError):
                    for result in results:
                        assert isinstance(result, ConcurrencyError), result
                        assert (result.stream, result.expected) == (stream, expected)
                        assert result.actual != expected
                    tracked[stream] = first.actual
                    continue
                assert isinstance(first, list), first
                assert all(result == first for result in results)
                assert [r.event_id for r in first] == [e.event_id for e in events]
                assert [r.event for r in first] == [e.event for e in events]
                assert {r.stream for r in first} == {stream}
                assert_dense_from(expected + 1, [r.version for r in first])
                assert_dense_from(first[0].seq, [r.seq for r in first])
                assert first[0].seq > last_seen_seq
                last_seen_seq = first[-1].seq
                tracked[stream] = first[-1].version
                acknowledged.append((stream, events, first))
                for recorded in first:
                    ledger.acked[recorded.event_id] = recorded
            case Retry(which=which, expected=expected):
                if not acknowledged:
                    continue
                stream, events, original = acknowledged[which % len(acknowledged)]
                assert await store.append(stream, events, expected) == original
            case Read(after=after, limit=limit, stream=None):
                floor = await store.last_seq()
                got = await store.read_all(after, limit)
                assert len(got) <= limit
                assert len(got) >= min(limit, floor - after)
                assert_dense_from(after + 1, [r.seq for r in got])
                ledger.seen.extend(got)
            case Read(after=after, limit=limit, stream=int(index)):
                floor = await store.stream_version(stream_name(index))
                got = await store.read_stream(stream_name(index), after % 5, limit)
                assert len(got) <= limit
                assert len(got) >= min(limit, floor - after % 5)
                assert_dense_from(after % 5 + 1, [r.version for r in got])
                assert {r.stream for r in got} <= {stream_name(index)}
                ledger.seen.extend(got)
            case Follow(after=after):
                ledger.follow(store, min(after, await store.last_seq()))
            case Pause(turns=turns):
                for _ in range(turns):
                    await asyncio.sleep(0)


async def run_program(backend: str, program: list[list[Op]]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        store = await Backend(backend, Path(directory), ManualClock(step=0.001)).open()
        ledger = Ledger()
        try:
            [created] = await create_project(store)
            ledger.acked[created.event_id] = created
            ledger.follow(store, 0)

            async with asyncio.timeout(TIMEOUT):
                await asyncio.gather(
                    *(run_client(store, c, ops, ledger) for c, ops in enumerate(program))
                )
                log = await read_everything(store)
                # Subscribers catch up with the whole log, then close() ends them.
                await asyncio.gather(*(f.wait_for(len(log)) for f in ledger.followers))
            await check_log(store, log, ledger)
        finally:
            await store.close()
            async with asyncio.timeout(TIMEOUT):
                await asyncio.gather(*ledger.tasks)
        for follower in ledger.followers:
            assert follower.got == log[follower.start :], f"subscriber from {follower.start}"


async def check_log(store: Store, log: list[Recorded], ledger: Ledger) -> None:
    assert_dense_from(1, [r.seq for r in log])
    assert await store.last_seq() == len(log)
    assert len({r.event_id for r in log}) == len(log), "an event_id is in the log twice"
    # Nothing acknowledged is missing; nothing that was not acknowledged was written.
    assert {r.event_id: r for r in log} == ledger.acked
    for recorded in ledger.seen:
        assert log[recorded.seq - 1] == recorded, "a reader saw an event the log does not hold"
    by_stream: dict[str, list[Recorded]] = defaultdict(list)
    for recorded in log:
        by_stream[recorded.stream].append(recorded)
    for stream, events in by_stream.items():
        assert_dense_from(1, [r.version for r in events])
        assert await store.stream_version(stream) == len(events)
        assert await store.read_stream(stream) == events
    ats = [r.at for r in log]
    assert ats == sorted(ats), "stamps went backwards in seq order"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", BACKENDS)
@settings(
    max_examples=50,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(program=programs)
def test_interleaved_appends_retries_and_reads_keep_the_log_whole(
    backend: str, program: list[list[Op]]
) -> None:
    asyncio.run(run_program(backend, program))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_hot_stream_with_many_writers(backend: str) -> None:
    """A fixed heavy case hypothesis rarely builds: 20 clients on two streams, all retrying."""
    hot: list[Op] = [
        Append(0, 2, "tracked", True),
        Retry(0, 0),
        Append(0, 1, "read", False),
        Append(1, 3, "tracked", False),
        Pause(1),
    ]
    program: list[list[Op]] = [hot * 8 for _ in range(20)]
    asyncio.run(run_program(backend, program))
