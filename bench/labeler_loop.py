"""One simulated labeler of the labelers benchmark: its connections, and the loop that takes a
page, tags each item and submits, as fast as the server answers; with the project it labels."""

import asyncio
import json
import random
import time
from dataclasses import dataclass, field

from lean_clients import Http, HttpError, Ws

PROJECT = "bench_text"
TAGS = ["world", "sports", "business", "science", "health"]
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]
PAGE_SIZE = 9
OVERLAP = 1
HEARTBEAT_SECONDS = 10.0
IMPORT_CHUNK = 50_000  # items per upload (the server reads at most 100,000 from one)
GESTURE = b'{"events":[{"event_id":"%s-%d","event":{"type":"annotation.tag_applied","tag":"%s"}}]}'


@dataclass
class Labeler:
    """One simulated labeler: its token, its connections, the frames it read, its pages."""

    name: str
    token: str
    http: Http | None = None
    ws: Ws | None = None
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)
    frames: int = 0
    pages: list[list[str]] = field(default_factory=list)

    def on_text(self, payload: bytes) -> None:
        self.frames += 1
        if not self.caught_up.is_set() and b'"caught_up"' in payload:
            self.caught_up.set()


@dataclass
class Stats:
    """What the labelers' loops measured in one run, shared by all of them."""

    next_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    gesture_ms: list[float] = field(default_factory=list)
    submitted: int = 0
    finished: int = 0
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)


def jsonl_items(start: int, count: int, seed: int) -> bytes:
    """Distinct short texts (ingest deduplicates by content), one JSON object a line."""
    rng = random.Random(seed + start)
    words = ["the", "of", "a", "to", "in", "market", "team", "game", "vote", "rain", "cell"]
    lines = [
        json.dumps({"id": f"t{n:06d}", "text": f"{n}: " + " ".join(rng.choices(words, k=12))})
        for n in range(start, start + count)
    ]
    return ("\n".join(lines) + "\n").encode()


async def make_project(port: int, admin: str, labelers: list[str], items: int) -> None:
    http = await Http.connect(port, admin)
    try:
        await http.call(
            "POST",
            "/api/projects",
            {
                "project_id": PROJECT,
                "name": "Benchmark news topics",
                "project_type": "text_multiclass",
                "tags": [{"name": t, "colour": c} for t, c in zip(TAGS, COLOURS, strict=True)],
                "page_size": PAGE_SIZE,
                "overlap": OVERLAP,
            },
            ok=201,
        )
        for start in range(0, items, IMPORT_CHUNK):
            count = min(IMPORT_CHUNK, items - start)
            status, body = await http.request(
                "POST",
                f"/api/projects/{PROJECT}/items?filename=items.jsonl",
                jsonl_items(start, count, 1),
            )
            if status != 201 or json.loads(body)["imported"] != count:
                raise HttpError(status, body, "import")
        for name in labelers:
            await http.call(
                "POST", f"/api/projects/{PROJECT}/members", {"user": name, "role": "labeler"}
            )
    finally:
        http.close()


async def connect(labeler: Labeler, port: int) -> None:
    labeler.http = await Http.connect(port, labeler.token)
    labeler.ws = await Ws.connect(port, labeler.on_text)
    labeler.ws.send({"type": "hello", "project": PROJECT, "token": labeler.token})
    await asyncio.wait_for(labeler.caught_up.wait(), 30)


async def label(labeler: Labeler, stats: Stats, start: float, deadline: float, seed: int) -> None:
    """The labeler's loop; figures count from `start`, no page is begun after `deadline`."""
    http, ws = labeler.http, labeler.ws
    assert http is not None
    assert ws is not None
    rng = random.Random(seed)
    page_path = f"/api/projects/{PROJECT}/page"
    submit_path = f"/api/projects/{PROJECT}/submit"
    perf = time.perf_counter
    counter = 0
    next_beat = perf() + rng.uniform(0, HEARTBEAT_SECONDS)
    while perf() < deadline:
        if perf() >= next_beat:
            ws.send({"type": "heartbeat"})
            next_beat += HEARTBEAT_SECONDS
        began = perf()
        status, body = await http.request("POST", page_path)
        ended = perf()
        if status == 409 and b'"conflict"' in body:
            stats.conflicts += 1  # another process kept deciding on the queue first: again
            continue
        if status != 200:
            stats.errors.append(f"page {status} {body[:200]!r}")
            return
        items: list[str] = json.loads(body)["items"]
        if began >= start:
            stats.next_ms.append((ended - began) * 1000)
        if not items:
            stats.finished += 1
            return
        labeler.pages.append(items)
        ws.send({"type": "watch", "items": items})
        for item in items:
            counter += 1
            gesture = GESTURE % (labeler.name.encode(), counter, rng.choice(TAGS).encode())
            began = perf()
            status, body = await http.request(
                "POST", f"/api/projects/{PROJECT}/items/{item}/events", gesture
            )
            ended = perf()
            if status != 200:
                stats.errors.append(f"gesture {status} {body[:200]!r}")
                return
            if began >= start:
                stats.gesture_ms.append((ended - began) * 1000)
        began = perf()
        status, body = await http.request("POST", submit_path)
        while status == 409 and b'"conflict"' in body:
            stats.conflicts += 1  # as for the page: another process decided first, again
            status, body = await http.request("POST", submit_path)
        ended = perf()
        if status != 200:
            stats.errors.append(f"submit {status} {body[:200]!r}")
            return
        if began >= start:
            stats.submit_ms.append((ended - began) * 1000)
        if start <= ended <= deadline:
            stats.submitted += len(json.loads(body)["submitted"])
