"""YOLO labels (Ultralytics layout): a zip of `labels/**/<name>.txt` and `data.yaml`.

Each line is `class cx cy w h` (detect) or `class x1 y1 ... xn yn` (segment, n >= 3), values
normalized to the image's width and height; a last column of confidence (an odd count of
values after the class for segment, six fields for detect) is ignored. Class indices are
named by data.yaml's `names` (a list, or a map of index to name), else by the project's tag
order. The image is the item whose name is the file's path under `labels/` (see
`Context.find`). An empty file is an image labeled with nothing.
"""

import json
import re
from collections.abc import Iterator

from server.labels_import.archive import after_folder, claimed_ids, members
from server.labels_import.context import Context
from server.labels_import.frames import framed_builder
from server.labels_import.records import Fault, Parsed, Problem, Record, Skipped
from server.media.archives import Member

_ENTRY = re.compile(r"^\s*(?:-\s*(?P<item>.+?)|(?P<key>\d+)\s*:\s*(?P<value>.+?))\s*$")


def _scalar(text: str) -> str:
    """A YAML scalar as data.yaml files write names: plain, 'single' or "double" quoted."""
    text = text.strip()
    if text.startswith('"'):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise Fault(f"cannot read the quoted name {text}") from None
        return str(value)
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    return text.split(" #", 1)[0].strip()


def read_names(yaml: str) -> list[str]:
    """The class names of a data.yaml: `names:` as a block list, a map, or a [flow, list]."""
    lines = yaml.splitlines()
    for index, line in enumerate(lines):
        if not line.startswith("names:"):
            continue
        rest = line[len("names:") :].strip()
        if rest.startswith("["):
            inner = rest.strip("[]")
            return [_scalar(part) for part in inner.split(",") if part.strip()]
        by_index: dict[int, str] = {}
        listed: list[str] = []
        for entry in lines[index + 1 :]:
            if entry and not entry[0].isspace() and not entry.startswith("-"):
                break
            found = _ENTRY.match(entry)
            if found is None:
                continue
            if found["item"] is not None:
                listed.append(_scalar(found["item"]))
            else:
                by_index[int(found["key"])] = _scalar(found["value"])
        if by_index:
            return [by_index.get(i, "") for i in range(max(by_index) + 1)]
        return listed
    raise Fault("data.yaml has no names")


def parse(data: bytes, context: Context) -> Iterator[Parsed]:
    names = [tag.name for tag in context.tags]
    files: list[Member] = []
    for member in members(data):
        if not isinstance(member, Member):
            yield member
        elif member.name.rsplit("/", 1)[-1] == "data.yaml":
            try:
                names = read_names(member.data.decode("utf-8-sig"))
            except (Fault, UnicodeDecodeError) as exc:
                message = exc.message if isinstance(exc, Fault) else str(exc)
                yield Problem(member.name, message)
                return
        elif member.name.endswith(".txt") and after_folder(member.name, "labels") is not None:
            files.append(member)
        else:
            yield Skipped(member.name, "neither data.yaml nor a labels/ file")
    claimed = claimed_ids(files, context)
    for member in files:
        try:
            yield _record(member, names, context, claimed)
        except Fault as exc:
            yield Problem(member.name, exc.message)


def _record(member: Member, names: list[str], context: Context, claimed: frozenset[str]) -> Record:
    path = after_folder(member.name, "labels") or member.name
    builder = framed_builder(context, name=path.removesuffix(".txt"), claimed=claimed)
    item = builder.item
    width, height = item.width, item.height
    if width <= 0 or height <= 0:
        raise Fault(f"item {item.item_id} has no known size to scale normalized values by")
    try:
        text = member.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Fault(f"not UTF-8 text: {exc}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            cls = int(fields[0])
            values = [float(v) for v in fields[1:]]
        except ValueError:
            raise Fault(f"line {number}: not `class` followed by numbers: {line!r}") from None
        if not 0 <= cls < len(names):
            raise Fault(f"line {number}: class {cls} has no name ({len(names)} classes)")
        try:
            if len(values) in (4, 5):
                cx, cy, w, h = values[:4]
                builder.box(
                    names[cls], (cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height
                )
            elif len(values) >= 6:
                coords = values[: len(values) - len(values) % 2]
                points = [
                    (x * width, y * height) for x, y in zip(coords[0::2], coords[1::2], strict=True)
                ]
                builder.polygon(names[cls], points)
            else:
                raise Fault(f"{len(values)} values after the class: 4 (a box) or 6+ (a polygon)")
        except Fault as exc:
            raise Fault(f"line {number}: {exc.message}") from None
    return Record(member.name, item.item_id, builder.gestures, builder.part)
