"""Parse text uploads into rows: .txt one row per non-empty line, .csv and .jsonl one per record.

Text is kept exactly as written: only the line break that ends a .txt line is removed, and a
UTF-8 byte order mark at the start of the file is dropped.
"""

import csv
import io
from collections.abc import Iterator

import msgspec

from server.media.errors import FileRejected

TEXT_COLUMN = "text"
ID_COLUMN = "id"


class TextRow(msgspec.Struct, frozen=True):
    """One text item as written in the file, with the line it starts on and its given id."""

    line: int
    text: str
    given_id: str | None = None


class RowError(msgspec.Struct, frozen=True):
    """One record that could not be read, by the line it starts on."""

    line: int
    message: str


class _JsonRow(msgspec.Struct, frozen=True):
    text: str
    id: str | int | None = None


_JSON_ROW = msgspec.json.Decoder(_JsonRow)


def decode_utf8(data: bytes) -> str:
    """Return `data` as text, without a leading BOM; raise FileRejected naming a bad byte's line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileRejected(
            f"the file is not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            f"(line {line}) is not valid UTF-8"
        ) from None


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield (line number, line) splitting on LF only, so U+2028 and the like stay in the text."""
    for number, line in enumerate(text.split("\n"), start=1):
        yield number, line.removesuffix("\r")


def parse_txt(data: bytes) -> Iterator[TextRow]:
    """Yield one row per line that is not blank."""
    for n, line in _lines(decode_utf8(data)):
        if line.strip():
            yield TextRow(n, line)


def parse_jsonl(data: bytes) -> Iterator[TextRow | RowError]:
    """Yield one row per JSON object line (`text`, optional `id`); blank lines are skipped."""
    for n, line in _lines(decode_utf8(data)):
        if not line.strip():
            continue
        try:
            record = _JSON_ROW.decode(line)
        except msgspec.DecodeError as exc:
            yield RowError(n, f"not a JSON object with a string `text`: {exc}")
            continue
        yield TextRow(n, record.text, None if record.id is None else str(record.id))


def parse_csv(data: bytes) -> Iterator[TextRow | RowError]:
    """Yield one row per CSV record after the header, which must name a `text` column."""
    # newline="" leaves quoted line breaks to the csv module, which keeps them exact.
    reader = csv.reader(io.StringIO(decode_utf8(data), newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise FileRejected(f"line 1: the CSV header could not be read: {exc}") from None
    if not header:
        raise FileRejected("the CSV file is empty: it needs a header row with a `text` column")
    names = [name.strip() for name in header]
    text_at = _column(names, TEXT_COLUMN)
    if text_at is None:
        raise FileRejected(
            f"the CSV header has no `{TEXT_COLUMN}` column (columns: "
            + ", ".join(repr(name) for name in names)
            + ")"
        )
    id_at = _column(names, ID_COLUMN)
    end = reader.line_num
    while True:
        start = end + 1
        try:
            record = next(reader, None)
        except csv.Error as exc:
            # The csv module cannot resume inside a broken record; the rest is not guessed at.
            yield RowError(start, f"{exc}; the lines after it were not read")
            return
        end = reader.line_num
        if record is None:
            return
        if not record:
            continue
        if text_at >= len(record):
            yield RowError(start, f"the record has {len(record)} fields, no `{TEXT_COLUMN}` field")
            continue
        given = record[id_at].strip() if id_at is not None and id_at < len(record) else ""
        yield TextRow(start, record[text_at], given or None)


def _column(names: list[str], wanted: str) -> int | None:
    """Return the index of the column named `wanted`, refusing a header that names it twice."""
    found = [i for i, name in enumerate(names) if name == wanted]
    if len(found) > 1:
        raise FileRejected(f"the CSV header has {len(found)} `{wanted}` columns")
    return found[0] if found else None
