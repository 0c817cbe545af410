"""The export's driver: items from a source, labels under the options, a format's writer,
and chunks out as soon as there are enough of them."""

import asyncio
import time
from collections.abc import AsyncIterator

from server.errors import Unprocessable
from server.export.base import Writer
from server.export.dicom_refs import Lookup
from server.export.formats import FORMATS, Format
from server.export.labels import item_labels, labeled_frames
from server.export.model import ExportItem
from server.export.sink import Sink
from server.export.source import Source

REGION_TYPES = frozenset({"bounding_boxes", "polygons", "semantic_segmentation"})
# The longest the export works before it lets the event loop serve others (seconds).
SLICE_SECONDS = 0.02


def pick_format(name: str, project_type: str) -> Format:
    """The format named, if it fits the project's type (Unprocessable otherwise)."""
    found = FORMATS.get(name)
    if found is None:
        raise Unprocessable(f"unknown format {name!r}; one of {', '.join(FORMATS)}", field="format")
    if project_type not in found.project_types:
        fitting = [f.name for f in FORMATS.values() if project_type in f.project_types]
        raise Unprocessable(
            f"{name} does not fit a {project_type} project; use {', '.join(fitting)}",
            field="format",
        )
    return found


async def export_chunks(
    source: Source, fmt: Format, uid_of: Lookup | None = None
) -> AsyncIterator[bytes]:
    """The export's bytes, a chunk at a time, generated item by item."""
    project = source.project
    if fmt.times:
        await source.load_times()
    writer = fmt.make()
    sink = Sink()
    writer.open(project, sink)
    try:
        async for chunk in _items(source, writer, sink, uid_of):
            yield chunk
        for _ in writer.close(sink):
            for chunk in sink.ready():
                yield chunk
    except BaseException:
        writer.discard()
        raise
    rest = sink.take()
    if rest:
        yield rest


async def _items(
    source: Source, writer: Writer, sink: Sink, uid_of: Lookup | None
) -> AsyncIterator[bytes]:
    project = source.project
    index = 0
    since = time.perf_counter()
    async for item, state in source.items():
        index += 1
        uid: str | None = None
        if item.kind == "dicom" and uid_of is not None:
            uid = uid_of(item.content_hash)
        if item.frames > 1 and project.project_type in REGION_TYPES:
            # Each labeled frame is an image of its own: its regions, strokes and mask.
            for position, frame in enumerate(labeled_frames(project, state)):
                if position:
                    index += 1
                labels = item_labels(project, item, state, source.time_of, frame)
                writer.add(ExportItem(index, item, labels, uid, frame, per_frame=True), sink)
        else:
            writer.add(
                ExportItem(
                    index=index,
                    item=item,
                    labels=item_labels(project, item, state, source.time_of),
                    sop_instance_uid=uid,
                    frame=0 if item.kind == "dicom" else None,
                ),
                sink,
            )
        for chunk in sink.ready():
            yield chunk
        if time.perf_counter() - since > SLICE_SECONDS:
            await asyncio.sleep(0)
            since = time.perf_counter()
