"""The clients of the fan-out benchmark: the watching readers, the labeler who writes, and
the project they share; plus the burst that makes a stalled client's queue overflow."""

import asyncio
import json
import time
from dataclasses import dataclass, field

from lean_clients import Http

PROJECT = "bench_fanout"
TAGS = ["world", "sports", "business", "science", "health"]
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]
MARK = b'"event_id":"w'
WRITER_CONNECTIONS = 4


@dataclass
class Reader:
    """One watching client: counts event frames and takes their latency."""

    # Events sent (wall clock, ns) in [low, high) are counted.
    low: int = 0
    high: int = 0
    events: int = 0
    frames: int = 0
    latencies: list[float] = field(default_factory=list)
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)

    def on_text(self, payload: bytes) -> None:
        self.frames += 1
        at = payload.find(MARK)
        if at < 0:
            if not self.caught_up.is_set() and b'"caught_up"' in payload:
                self.caught_up.set()
            return
        start = at + len(MARK)
        sent = int(payload[start : payload.index(b"-", start)])
        if not self.low <= sent < self.high:
            return
        self.events += 1
        self.latencies.append((time.time_ns() - sent) / 1e6)


async def make_project(port: int, admin: str, auditor: str, writer: str) -> None:
    http = await Http.connect(port, admin)
    try:
        await http.call(
            "POST",
            "/api/projects",
            {
                "project_id": PROJECT,
                "name": "Fan-out benchmark",
                "project_type": "text_multiclass",
                "tags": [{"name": t, "colour": c} for t, c in zip(TAGS, COLOURS, strict=True)],
                "page_size": 9,
            },
            ok=201,
        )
        lines = [json.dumps({"id": f"t{n:03d}", "text": f"text number {n}"}) for n in range(50)]
        status, body = await http.request(
            "POST",
            f"/api/projects/{PROJECT}/items?filename=items.jsonl",
            ("\n".join(lines) + "\n").encode(),
        )
        if status != 201:
            raise RuntimeError(f"import: {status} {body[:200]!r}")
        await http.call(
            "POST", f"/api/projects/{PROJECT}/members", {"user": auditor, "role": "auditor"}
        )
        await http.call(
            "POST", f"/api/projects/{PROJECT}/members", {"user": writer, "role": "labeler"}
        )
    finally:
        http.close()


class Writer:
    """One labeler appending TagApplied gestures on its page over a few HTTP connections."""

    def __init__(self, connections: list[Http], items: list[str]) -> None:
        self.connections = connections
        self.items = items
        self.counter = 0
        self.stamps: list[int] = []

    @classmethod
    async def open(cls, port: int, token: str) -> "Writer":
        connections = [await Http.connect(port, token) for _ in range(WRITER_CONNECTIONS)]
        page = await connections[0].call("POST", f"/api/projects/{PROJECT}/page")
        return cls(connections, page["items"])

    async def run(self, rate: float | None, until: float) -> float:
        """Sends one gesture every 1/rate s (None: as fast as it is answered) until `until`
        (perf_counter); returns the latest a send was made after it was due."""
        free: asyncio.Queue[Http] = asyncio.Queue()
        for http in self.connections:
            free.put_nowait(http)
        pending: set[asyncio.Task[None]] = set()
        begun, sent, late = time.perf_counter(), 0, 0.0

        async def send(http: Http, body: bytes, item: str) -> None:
            status, answer = await http.request(
                "POST", f"/api/projects/{PROJECT}/items/{item}/events", body
            )
            if status != 200:
                raise RuntimeError(f"gesture: {status} {answer[:200]!r}")
            free.put_nowait(http)

        while True:
            due = begun + sent / rate if rate else time.perf_counter()
            if due >= until:
                break
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            http = await free.get()
            late = max(late, time.perf_counter() - due)
            stamp, n = time.time_ns(), self.counter
            body = (
                b'{"events":[{"event_id":"w%d-%d","event":{"type":"annotation.tag_applied",'
                b'"tag":"%s"}}]}' % (stamp, n, TAGS[n % len(TAGS)].encode())
            )
            task = asyncio.create_task(send(http, body, self.items[n % len(self.items)]))
            pending.add(task)
            task.add_done_callback(pending.discard)
            self.stamps.append(stamp)
            self.counter += 1
            sent += 1
        await asyncio.gather(*pending)
        return late

    def close(self) -> None:
        for http in self.connections:
            http.close()


async def force_drop(port: int, admin: str, writer: Writer) -> None:
    """Makes the stalled client's queue overflow soon, as a long stall at the measured rate
    would (the kernel holds up to 4 MB of its frames before the server feels anything): each
    import is one event of ~250 KB that auditors receive whole, then small events as fast as
    the server takes them."""
    http = await Http.connect(port, admin)
    try:
        for batch in range(30):
            lines = [
                json.dumps({"id": f"x{batch:02d}{n:04d}", "text": f"filler {batch} {n} " * 3})
                for n in range(1000)
            ]
            status, body = await http.request(
                "POST",
                f"/api/projects/{PROJECT}/items?filename=more.jsonl",
                ("\n".join(lines) + "\n").encode(),
            )
            if status != 201:
                raise RuntimeError(f"import: {status} {body[:200]!r}")
    finally:
        http.close()
    await writer.run(None, time.perf_counter() + 4.0)
