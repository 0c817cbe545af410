"""Export benchmark: every format of every project type, at N and 10 × N items.

Builds, per project type, a project of labeled items (one labeler, pages of ten, submitted),
folded into the workspace as the live model holds it, with the log kept in a list-backed
store so that times and replays read it as they read the real one. Then, per format:

  seconds   median of --runs exports of the large project, output consumed and dropped
  items/s   items of the project over that median
  peak MiB  what the export itself allocated at most (tracemalloc, a separate run), at N and
            at 10 × N items: flat memory means the two are alike

Labels per item: multi-class 1 tag, multi-label 2, boxes 3, polygons 2 of 6 points, semantic
2 strokes + 1 polygon (256 × 256 images), NER 2 spans, text classes 1 tag. Images are
640 × 480 elsewhere. Also timed: COCO of boxes replayed from the log (as_of an older seq), and
the baseline, a COCO document built in memory and dumped with json (what an export that
is not streamed does); the target is COCO of 10k items in at most a second.

    python bench/export.py                 # N = 1,000 and 10,000
    python bench/export.py --items 10000   # N = 10,000 and 100,000
"""

import argparse
import asyncio
import bisect
import json
import statistics
import time
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any, cast

from events.annotation import (
    BoxDrawn,
    BrushErased,
    BrushPainted,
    PolygonDrawn,
    SpanTagged,
    TagApplied,
)
from events.base import ProjectType
from events.envelope import Recorded
from events.project import ImportedItem, ItemsImported, ProjectCreated, TagsDefined, TagSpec
from events.projections.workspace import Workspace, evolve
from events.queue import PageAssigned, PageSubmitted, SessionOpened
from events.store import EventStore
from events.vocabulary import AnyEvent
from server.export.formats import FORMATS, formats_for
from server.export.model import ExportOptions
from server.export.run import export_chunks
from server.export.source import LiveSource, ReplaySource

TAGS = [
    TagSpec(name=n, colour=c)
    for n, c in (("cat", "#ff0000"), ("dog", "#00ff00"), ("car", "#0000ff"))
]
TEXT = "Zoë flew from Zürich to Paris with Marie-Claire on Monday morning."
TYPES: tuple[ProjectType, ...] = (
    "image_multiclass",
    "image_multilabel",
    "bounding_boxes",
    "polygons",
    "semantic_segmentation",
    "text_multiclass",
    "ner",
)


class ListStore:
    """The read side of an EventStore over lists: what an export reads of the log."""

    def __init__(self) -> None:
        self.log: list[Recorded] = []
        self.streams: dict[str, list[Recorded]] = {}
        self.clock = 1_700_000_000.0

    def add(self, stream: str, event: AnyEvent, actor: str = "ann") -> Recorded:
        events = self.streams.setdefault(stream, [])
        self.clock += 0.01
        recorded = Recorded(
            seq=len(self.log) + 1,
            stream=stream,
            version=len(events) + 1,
            event_id=f"e{len(self.log) + 1}",
            actor=actor,
            session="s",
            at=self.clock,
            event=event,
        )
        self.log.append(recorded)
        events.append(recorded)
        return recorded

    async def read_stream(
        self, stream: str, after_version: int = 0, limit: int | None = None
    ) -> list[Recorded]:
        events = self.streams.get(stream, [])
        return events[after_version : None if limit is None else after_version + limit]

    async def read_all(self, after: int = 0, limit: int = 1000) -> list[Recorded]:
        return self.log[after : after + limit]

    async def last_seq(self) -> int:
        return len(self.log)

    async def seq_at(self, at: float) -> int:
        return bisect.bisect_right([r.at for r in self.log], at)


def gestures(project_type: str, n: int) -> list[AnyEvent]:
    x = float(n % 300)
    match project_type:
        case "image_multiclass" | "text_multiclass":
            return [TagApplied(tag=TAGS[n % 3].name)]
        case "image_multilabel":
            return [TagApplied(tag="cat"), TagApplied(tag=TAGS[1 + n % 2].name)]
        case "bounding_boxes":
            return [
                BoxDrawn(
                    region_id=f"r{k}", tag=TAGS[k].name, x=x + 10 * k, y=20.5 * k, w=40, h=30.25
                )
                for k in range(3)
            ]
        case "polygons":
            return [
                PolygonDrawn(
                    region_id=f"p{k}",
                    tag=TAGS[k].name,
                    points=[
                        (x + 10 * k + dx, 50 + dy)
                        for dx, dy in ((0, 0), (30, 5), (45, 25), (35, 60), (10, 55), (2, 30))
                    ],
                )
                for k in range(2)
            ]
        case "semantic_segmentation":
            y = float(n % 200)
            return [
                BrushPainted(
                    stroke_id="s1",
                    tag="cat",
                    radius=8,
                    points=[(20, y + 20), (120, y + 30), (200, y + 25)],
                ),
                BrushErased(stroke_id="s2", radius=4, points=[(60, y + 25), (80, y + 25)]),
                PolygonDrawn(region_id="p", tag="dog", points=[(150, 10), (240, 40), (180, 120)]),
            ]
        case "ner":
            return [
                SpanTagged(span_id="a", tag="cat", start=0, end=3),
                SpanTagged(span_id="b", tag="dog", start=14, end=20),
            ]
    raise ValueError(project_type)


def build(project_type: ProjectType, count: int) -> tuple[Workspace, ListStore]:
    store = ListStore()
    workspace = Workspace()
    project = "p"

    def add(stream: str, event: AnyEvent) -> None:
        evolve(workspace, store.add(stream, event))

    add(
        f"project-{project}",
        ProjectCreated(project_id=project, name="bench", project_type=project_type),
    )
    add(f"project-{project}", TagsDefined(tags=TAGS))
    text = project_type.startswith("text") or project_type == "ner"
    side = 256 if project_type == "semantic_segmentation" else 0
    items = [
        ImportedItem(
            item_id=f"i{n}",
            kind="text" if text else "image",
            content_hash=f"{n:064x}",
            size_bytes=1,
            name=f"texts.txt:{n}" if text else f"photos/img {n}.jpg",
            width=0 if text else side or 640,
            height=0 if text else side or 480,
            text=TEXT if text else None,
        )
        for n in range(count)
    ]
    for start in range(0, count, 10_000):
        add(f"project-{project}", ItemsImported(items=items[start : start + 10_000]))
    add(f"queue-{project}", SessionOpened(session_id="s", user="ann", lease_until=1e10))
    for start in range(0, count, 10):
        page = [f"i{n}" for n in range(start, min(start + 10, count))]
        add(
            f"queue-{project}",
            PageAssigned(session_id="s", labeler="ann", items=page, lease_until=1e10),
        )
        for item in page:
            for gesture in gestures(project_type, int(item[1:])):
                add(f"item-{project}-{item}", gesture)
        add(f"queue-{project}", PageSubmitted(session_id="s", labeler="ann", items=page))
    return workspace, store


async def drain(chunks: AsyncIterator[bytes]) -> int:
    return sum([len(chunk) async for chunk in chunks])


async def export_once(
    workspace: Workspace, store: ListStore, fmt: str, replay: bool = False
) -> tuple[float, int]:
    started = time.perf_counter()
    events = cast(EventStore, store)
    if replay:
        source: Any = await ReplaySource.open(events, "p", workspace.seq, ExportOptions())
    else:
        source = LiveSource(
            events, "p", workspace.projects["p"], workspace.seq, None, ExportOptions()
        )
    size = await drain(export_chunks(source, FORMATS[fmt]))
    return time.perf_counter() - started, size


async def peak(workspace: Workspace, store: ListStore, fmt: str, replay: bool = False) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    await export_once(workspace, store, fmt, replay)
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top / 2**20


def naive_coco(workspace: Workspace) -> bytes:
    """The baseline: the whole COCO document as Python objects, then json.dumps."""
    project = workspace.projects["p"]
    values = {t.name: i + 1 for i, t in enumerate(project.tags)}
    images, annotations = [], []
    for index, (item_id, item) in enumerate(project.items.items(), start=1):
        images.append(
            {"id": index, "file_name": item.name, "width": item.width, "height": item.height}
        )
        state = project.annotations.get(item_id)
        for work in state.work.values() if state else ():
            for region in work.submitted.regions.values() if work.submitted else ():
                annotations.append(
                    {
                        "id": len(annotations) + 1,
                        "image_id": index,
                        "category_id": values[region.tag or ""],
                        "bbox": [region.x, region.y, region.w, region.h],
                        "area": region.w * region.h,
                        "segmentation": [
                            [
                                region.x,
                                region.y,
                                region.x + region.w,
                                region.y,
                                region.x + region.w,
                                region.y + region.h,
                                region.x,
                                region.y + region.h,
                            ]
                        ],
                        "iscrowd": 0,
                    }
                )
    categories = [{"id": v, "name": k} for k, v in values.items()]
    return json.dumps(
        {"images": images, "annotations": annotations, "categories": categories}
    ).encode()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--items", type=int, default=1_000, help="N: the small project (×10: the large)"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", help="one project type")
    args = parser.parse_args()
    small, large = args.items, args.items * 10
    print(
        f"export benchmark: {small:,} and {large:,} items per project type, median of {args.runs}"
    )
    print(
        f"{'format':10} {'project type':22} {'seconds':>8} {'items/s':>10} {'MiB':>8}  "
        f"peak MiB at {small:,} → {large:,}"
    )
    for project_type in TYPES:
        if args.only and project_type != args.only:
            continue
        built = time.perf_counter()
        big = build(project_type, large)
        little = build(project_type, small)
        print(f"# {project_type}: projects built in {time.perf_counter() - built:.1f} s")
        for fmt in [f.name for f in formats_for(project_type)]:
            times = []
            size = 0
            for _ in range(args.runs):
                seconds, size = await export_once(*big, fmt)
                times.append(seconds)
            median = statistics.median(times)
            low = await peak(*little, fmt)
            high = await peak(*big, fmt)
            print(
                f"{fmt:10} {project_type:22} {median:8.3f} {large / median:10,.0f} "
                f"{size / 2**20:8.1f}  {low:6.2f} → {high:6.2f}"
            )
        if project_type == "bounding_boxes":
            seconds, _ = await export_once(*big, "coco", replay=True)
            low, high = await peak(*little, "coco", True), await peak(*big, "coco", True)
            print(
                f"{'coco':10} {'  replayed from the log':22} {seconds:8.3f} "
                f"{large / seconds:10,.0f} {'':8}  {low:6.2f} → {high:6.2f}"
            )
            baseline = []
            for _ in range(args.runs):
                started = time.perf_counter()
                naive_coco(big[0])
                baseline.append(time.perf_counter() - started)
            tracemalloc.start()
            naive_coco(big[0])
            naive_peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            coco = statistics.median(
                [(await export_once(*big, "coco"))[0] for _ in range(args.runs)]
            )
            base = statistics.median(baseline)
            print(
                f"{'baseline':10} {'  COCO in memory+json':22} {base:8.3f} "
                f"{large / base:10,.0f} {'':8}  {'':6}   {naive_peak:6.2f}   "
                f"(streamed COCO: {coco / base:.2f}× the time)"
            )


if __name__ == "__main__":
    asyncio.run(main())
