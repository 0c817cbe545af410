"""A label import from start to end: parse the file, then write each label through the one
write path (`server.commands.Commands`) as the `import` actor, a page of items at a time.

Every problem is reported by the record it concerns (a line, an annotation, a zip member)
and the other records go on. Nothing is written for a record the parser or the project
refuses; a record refused while being written (another writer got there first) leaves at
most a draft, which the next import of the file completes.
"""

import asyncio
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import anyio
import msgspec

from events.base import ProjectType
from events.projections.workspace import ProjectState
from events.queue import QueueEvent
from server.commands import Commands
from server.decide import queue as queue_rules
from server.errors import ApiError, Unprocessable
from server.labels_import import coco, conll, jsonl, masks, table, voc, yolo
from server.labels_import.context import CLASSIFICATION, Context
from server.labels_import.decide import (
    IMPORT_ACTOR,
    PAGE_SIZE,
    Plan,
    assign_page,
    plan,
    session_for,
)
from server.labels_import.records import Parsed, Problem, Record, Skipped

DETECTION = frozenset({"bounding_boxes", "polygons"})
ALL_TYPES: frozenset[str] = CLASSIFICATION | DETECTION | {"semantic_segmentation", "ner"}
# Items of a page whose gestures are appended at once (their streams differ, so the store
# can commit them in one group).
CONCURRENCY = 16
MAX_APPEND = 1_000


@dataclass(frozen=True)
class Importer:
    name: str
    parse: Callable[[bytes, Context], Iterator[Parsed]]
    project_types: frozenset[str]


IMPORTERS: dict[str, Importer] = {
    i.name: i
    for i in (
        Importer("coco", coco.parse, DETECTION | {"semantic_segmentation"}),
        Importer("yolo", yolo.parse, DETECTION),
        Importer("yolo_seg", yolo.parse, DETECTION),
        Importer("voc", voc.parse, DETECTION),
        Importer("png_masks", masks.parse, frozenset({"semantic_segmentation"})),
        Importer("conll", conll.parse, frozenset({"ner"})),
        Importer("jsonl", jsonl.parse, ALL_TYPES),
        Importer("csv", table.parse, CLASSIFICATION),
    )
}


class ImportReport(msgspec.Struct, kw_only=True):
    """What an import did: labels read, written, already there; problems by record."""

    format: str
    file: str
    session: str
    records: int = 0
    imported: int = 0
    unchanged: int = 0
    errors: list[Problem] = msgspec.field(default_factory=list)
    skipped: list[Skipped] = msgspec.field(default_factory=list)


def pick_importer(name: str, project_type: ProjectType) -> Importer:
    found = IMPORTERS.get(name)
    if found is None:
        raise Unprocessable(
            f"unknown format {name!r}; one of {', '.join(IMPORTERS)}", field="format"
        )
    if project_type not in found.project_types:
        fitting = [i.name for i in IMPORTERS.values() if project_type in i.project_types]
        raise Unprocessable(
            f"{name} labels do not fit a {project_type} project; use {', '.join(fitting)}",
            field="format",
        )
    return found


async def read_records(
    importer: Importer, data: bytes, project: ProjectState, report: ImportReport
) -> list[Record]:
    """The file's records, one per item (a second label for an item is a problem; the parts
    of a multi-frame item's label, one per frame, make one); parsed in a worker thread, as
    decoding masks or large files takes a while."""
    context = Context(project)
    parsed_all = await anyio.to_thread.run_sync(lambda: list(importer.parse(data, context)))
    records: dict[str, Record] = {}
    frames: dict[str, set[int | None]] = {}
    for parsed in parsed_all:
        match parsed:
            case Record(where=where, item_id=item_id, frame=frame):
                seen = frames.setdefault(item_id, set())
                if seen and (frame is None or None in seen or frame in seen):
                    again = "" if frame is None else f" on frame {frame}"
                    report.errors.append(
                        Problem(
                            where,
                            f"item {item_id} already has a label{again} at "
                            f"{records[item_id].where}; an import gives each item one label",
                        )
                    )
                    continue
                seen.add(frame)
                before = records.get(item_id)
                records[item_id] = (
                    parsed
                    if before is None
                    else Record(before.where, item_id, [*before.gestures, *parsed.gestures], frame)
                )
            case Problem():
                report.errors.append(parsed)
            case Skipped():
                report.skipped.append(parsed)
    report.records = len(records)
    return list(records.values())


async def import_labels(
    commands: Commands, project_id: str, format_name: str, data: bytes, file_name: str
) -> ImportReport:
    """Imports the labels of one file into the project as the `import` actor."""
    project = commands.live.project(project_id)
    importer = pick_importer(format_name, project.settings.project_type)
    file_hash = hashlib.sha256(data).hexdigest()
    session = session_for(file_hash)
    report = ImportReport(format=importer.name, file=file_name, session=session)
    records = await read_records(importer, data, project, report)
    opened = False
    try:
        for start in range(0, len(records), PAGE_SIZE):
            page = records[start : start + PAGE_SIZE]
            plans: list[Plan] = []
            current = commands.live.project(project_id)
            for record in page:
                try:
                    planned = plan(current, record, file_hash)
                except ApiError as exc:
                    report.errors.append(Problem(record.where, exc.message))
                    continue
                if planned is None:
                    report.unchanged += 1
                else:
                    plans.append(planned)
            if not plans:
                continue
            opened = True
            await _write_page(commands, project_id, session, plans, report)
    finally:
        if opened:

            def close(project: ProjectState, *_: object) -> list[QueueEvent]:
                return queue_rules.sign_out(project, session)

            await commands.queue_events(project_id, IMPORT_ACTOR, session, close)
    return report


async def _write_page(
    commands: Commands, project_id: str, session: str, plans: list[Plan], report: ImportReport
) -> None:
    items = [p.record.item_id for p in plans]

    # Reads and changes only the import session's part of the queue (the contract of a
    # queue decision); the items are the file's, whoever else holds them.
    def hand_out(project: ProjectState, *_: object) -> list[QueueEvent]:
        return assign_page(project, session, items, commands.clock())

    await commands.queue_events(project_id, IMPORT_ACTOR, session, hand_out)
    limit = asyncio.Semaphore(CONCURRENCY)

    async def draw(planned: Plan) -> str | None:
        async with limit:
            try:
                for at in range(0, len(planned.incoming), MAX_APPEND):
                    await commands.append_gestures(
                        project_id,
                        planned.record.item_id,
                        IMPORT_ACTOR,
                        session,
                        planned.incoming[at : at + MAX_APPEND],
                    )
            except ApiError as exc:
                report.errors.append(Problem(planned.record.where, exc.message))
                return None
            return planned.record.item_id

    drawn = [item for item in await asyncio.gather(*map(draw, plans)) if item is not None]
    if not drawn:
        return
    try:
        await commands.submit(project_id, IMPORT_ACTOR, session, drawn)
        report.imported += len(drawn)
    except ApiError:
        # One item refused the submit: submit them one by one to tell which.
        where = {p.record.item_id: p.record.where for p in plans}
        for item in drawn:
            try:
                await commands.submit(project_id, IMPORT_ACTOR, session, [item])
                report.imported += 1
            except ApiError as exc:
                report.errors.append(Problem(where[item], exc.message))
