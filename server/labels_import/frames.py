"""Which frame of a multi-frame item a record is for.

An export writes each labeled frame of a multi-frame item as an entry of its own: COCO and
JSON Lines name it `<name>#f<frame>` and carry `frame`, VOC carries `<frame>`, and zip members
are `<stem>_f<frame>.<ext>` (YOLO, PNG masks). A record's frame is the one the file states,
else the one its name is marked with; a name with such a mark that fits no item as it is
names the item without the mark. Items of one frame take frame 0 and no mark.
"""

import re

from events.project import ImportedItem
from server.labels_import.context import Builder, Context
from server.labels_import.records import Fault

_MARKED = re.compile(r"^(?P<name>.*?)(?:#f|_f)(?P<frame>\d{1,4})(?P<suffix>\.[^./#]*)?$")
FRAME_END = re.compile(r"_f\d{1,4}$")


def _frame_of(item: ImportedItem, stated: object, name: str | None) -> int:
    if stated is None:
        marked = _MARKED.match(name or "") if item.frames > 1 else None
        return 0 if marked is None else int(marked["frame"])
    if isinstance(stated, bool) or not isinstance(stated, int):
        raise Fault(f"frame must be a whole number, not {stated!r}")
    if not 0 <= stated < item.frames:
        frames = "it has only frame 0" if item.frames == 1 else f"0..{item.frames - 1}"
        raise Fault(f"frame {stated} is not a frame of the item ({frames})")
    return stated


def framed_builder(
    context: Context,
    *,
    item_id: str | None = None,
    name: str | None = None,
    text: str | None = None,
    claimed: frozenset[str] = frozenset(),
    frame: object = None,
) -> Builder:
    """A builder for the item the record names, drawing on the frame the record is for."""
    try:
        item = context.find(item_id=item_id, name=name, text=text, claimed=claimed)
    except Fault:
        marked = _MARKED.match(name or "")
        if marked is None:
            raise
        bare = marked["name"] + (marked["suffix"] or "")
        item = context.find(item_id=item_id, name=bare, text=text, claimed=claimed)
        if item.frames == 1:
            raise
    return context.builder(item, _frame_of(item, frame, name))
