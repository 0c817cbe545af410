"""Names and values as files hold them: member paths from item names, times, numbers."""

import datetime
import re

from events.project import ImportedItem
from server.export.zipstream import ZipStream

_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
ID_MARK = "~"


def safe_parts(name: str) -> list[str]:
    """The parts of an item's name usable as a relative path: no `..`, `.`, empty parts,
    drive letters or control characters."""
    parts = []
    for part in name.replace("\\", "/").split("/"):
        part = _UNSAFE.sub("_", part).strip()
        if part in {"", ".", ".."} or (len(part) == 2 and part[1] == ":"):
            continue
        parts.append(part)
    return parts


def stem_path(item: ImportedItem) -> str:
    """The item's name as a relative path without its last suffix (`dir/a.png` → `dir/a`)."""
    parts = safe_parts(item.name) or [item.item_id]
    last = parts[-1]
    dot = last.rfind(".")
    if dot > 0:
        parts[-1] = last[:dot]
    return "/".join(parts)


def member_path(zip_stream: ZipStream, folder: str, item: ImportedItem, suffix: str) -> str:
    """`folder/<stem><suffix>`, or `folder/<stem>~<item id><suffix>` when two items' names
    would give the same member."""
    path = f"{folder}/{stem_path(item)}{suffix}"
    if zip_stream.taken(path):
        path = f"{folder}/{stem_path(item)}{ID_MARK}{item.item_id}{suffix}"
    return path


def iso_time(at: float | None) -> str | None:
    """UTC ISO-8601 with milliseconds and a Z (`2024-05-01T12:00:00.000Z`)."""
    if at is None:
        return None
    moment = datetime.datetime.fromtimestamp(at, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def number(value: float) -> str:
    """A coordinate as text: whole numbers without a point, others as Python's shortest
    exact repr, so that reading the text back gives the very same float."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
