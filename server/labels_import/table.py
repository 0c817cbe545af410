"""CSV labels of classification projects: annolog's export, or any table with a header.

The item is named by an `item_id`, `file` (or `file_name`, `image`) or `text` column; the
tag by `tag` or `label`, or several by `tags` / `labels` (a JSON array, else `;`-separated).
Rows whose `status` is not `submitted` are skipped. Line numbers count the header as line 1.
A cell that an export quoted against spreadsheet formulas (`'=…`) is read without its quote.
"""

import csv
import io
from collections.abc import Iterator

import msgspec

from server.export.formula_cells import restore
from server.labels_import.context import Context
from server.labels_import.records import Fault, Parsed, Problem, Record, Skipped

ITEM_COLUMNS = ("item_id", "id")
NAME_COLUMNS = ("file", "file_name", "image", "filename")


def _tags(row: dict[str, str]) -> list[str]:
    for column in ("tag", "label"):
        value = row.get(column)
        if value:
            return [value]
    for column in ("tags", "labels"):
        value = row.get(column)
        if value:
            if value.startswith("["):
                try:
                    decoded = msgspec.json.decode(value.encode("utf-8"))
                except msgspec.DecodeError as exc:
                    raise Fault(f"{column} is not a JSON array: {exc}") from None
                if not isinstance(decoded, list):
                    raise Fault(f"{column} must be a JSON array of tags")
                return [str(tag) for tag in decoded]
            return [tag.strip() for tag in value.split(";") if tag.strip()]
    return []


def parse(data: bytes, context: Context) -> Iterator[Parsed]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield Problem("file", f"not UTF-8 text: {exc}")
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    line = reader.line_num
    try:
        for cells in reader:
            row = {k: restore(v) if isinstance(v, str) else v for k, v in cells.items()}
            where = f"line {line + 1}"
            line = reader.line_num
            try:
                status = row.get("status") or "submitted"
                if status != "submitted":
                    yield Skipped(where, f"a {status} is not a submitted label")
                    continue
                item = context.find(
                    item_id=next((row[c] for c in ITEM_COLUMNS if row.get(c)), None),
                    name=next((row[c] for c in NAME_COLUMNS if row.get(c)), None),
                    text=row.get("text"),
                )
                builder = context.builder(item)
                tags = _tags(row)
                if not tags:
                    raise Fault("the row names no tag (a tag, tags, label or labels column)")
                for tag in tags:
                    builder.tag(tag)
                yield Record(where, item.item_id, builder.gestures)
            except Fault as exc:
                yield Problem(where, exc.message)
    except csv.Error as exc:
        yield Problem(f"line {reader.line_num}", f"the CSV cannot be read on: {exc}")
