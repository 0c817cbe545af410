"""Text uploads: one item per line or record, Unicode kept exactly, bad rows named by line."""

import hashlib
import json

from server.media import IngestLimits, IngestResult, ingest


def texts(result: IngestResult) -> list[str | None]:
    return [file.text for file in result.items]


def test_txt_gives_one_item_per_line_that_is_not_blank() -> None:
    data = "first\r\n\n   \n  indented, trailing  \nline\u2028separator kept\nlast".encode()
    result = ingest("notes.txt", data)
    assert result.errors == []
    assert texts(result) == ["first", "  indented, trailing  ", "line\u2028separator kept", "last"]
    assert [f.name for f in result.items] == [
        "notes.txt:1",
        "notes.txt:4",
        "notes.txt:5",
        "notes.txt:6",
    ]
    first = result.items[0]
    digest = hashlib.sha256(b"first").hexdigest()
    assert (first.kind, first.content_hash, first.item_id) == ("text", digest, digest[:16])
    assert (first.size_bytes, first.data, first.media_type) == (
        5,
        None,
        "text/plain; charset=utf-8",
    )


def test_csv_with_bom_keeps_unicode_emoji_and_quoted_line_breaks_exactly() -> None:
    rows = [
        "id,text,label",
        "r1,Café crème 🍰,food",
        'r2,"two\r\nlines, with a comma",x',
        "r3,Zürich 👩‍👩‍👧 ﷽,y",
        "",
    ]
    data = b"\xef\xbb\xbf" + "\r\n".join(rows).encode()
    result = ingest("reviews.csv", data)
    assert (result.errors, result.notes) == ([], [])
    assert [(f.item_id, f.text) for f in result.items] == [
        ("r1", "Café crème 🍰"),
        ("r2", "two\r\nlines, with a comma"),
        ("r3", "Zürich 👩‍👩‍👧 ﷽"),
    ]
    # A record is named by the line it starts on, so r3 is on line 5 after the two-line r2.
    assert [f.name for f in result.items] == ["reviews.csv:2", "reviews.csv:3", "reviews.csv:5"]
    assert result.items[0].size_bytes == len("Café crème 🍰".encode())


def test_csv_without_a_text_column_names_the_columns_it_has() -> None:
    result = ingest("x.csv", b"id,body\n1,hello\n")
    assert result.items == []
    [error] = result.errors
    assert (error.name, error.message) == (
        "x.csv",
        "the CSV header has no `text` column (columns: 'id', 'body')",
    )


def test_csv_bad_records_are_reported_by_line_and_the_rest_imported() -> None:
    data = "\n".join(
        [
            "label,text,id",
            "a,good one,g1",
            "short",
            "b,   ,g2",
            "c,bad id,not valid!",
            "d,same id,g1",
            "e,good one,g9",
        ]
    ).encode()
    result = ingest("x.csv", data)
    assert [(f.item_id, f.text) for f in result.items] == [
        ("g1", "good one"),
        (hashlib.sha256(b"bad id").hexdigest()[:16], "bad id"),
    ]
    assert [e.message for e in result.errors] == [
        "line 3: the record has 1 fields, no `text` field",
        "line 4: the text is empty",
        "line 6: id 'g1' is already taken by 'x.csv:2'",
    ]
    [note] = result.notes
    assert note.name == "x.csv:5"
    assert "'not valid!' is not a valid item id" in note.message
    [skipped] = result.skipped
    assert skipped == type(skipped)("x.csv:7", "the same content as 'x.csv:2'")


def test_jsonl_reports_its_bad_lines_by_number() -> None:
    lines = [
        json.dumps({"text": "ok 😀", "id": "a1", "extra": [1, 2]}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "b2"}),
        "",
        json.dumps(["text"]),
        json.dumps({"text": "numbered", "id": 7}),
        json.dumps({"text": "escaped \ud83d\ude00"}),
    ]
    result = ingest("batch.jsonl", "\n".join(lines).encode())
    assert [(f.item_id, f.text) for f in result.items] == [
        ("a1", "ok 😀"),
        ("7", "numbered"),
        (hashlib.sha256("escaped 😀".encode()).hexdigest()[:16], "escaped 😀"),
    ]
    messages = [e.message for e in result.errors]
    assert [m.split(":")[0] for m in messages] == ["line 2", "line 3", "line 5"]
    assert "missing required field `text`" in messages[1]
    assert all(e.name == "batch.jsonl" for e in result.errors)


def test_text_over_the_limit_is_refused_with_both_numbers() -> None:
    result = ingest(
        "long.txt", b"short\n" + b"x" * 11 + b"\n", limits=IngestLimits(max_text_chars=10)
    )
    assert texts(result) == ["short"]
    assert [e.message for e in result.errors] == [
        "line 2: the text has 11 characters, the limit is 10"
    ]


def test_text_that_is_not_utf8_is_refused_with_its_line() -> None:
    result = ingest("latin1.txt", "ok\nna\u00efve\n".encode("latin-1"))
    assert result.items == []
    [error] = result.errors
    assert error.message == (
        "the file is not UTF-8 text: byte 0xef at offset 5 (line 2) is not valid UTF-8"
    )


def test_binary_content_named_as_text_is_refused() -> None:
    result = ingest("photo.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    assert [e.message for e in result.errors] == [
        "the file is named .txt but is not text: PNG data"
    ]


def test_repeated_lines_are_skipped_as_duplicates_not_errors() -> None:
    result = ingest("dup.txt", b"same\nother\nsame\n")
    assert texts(result) == ["same", "other"]
    assert result.errors == []
    assert [(s.name, s.reason) for s in result.skipped] == [
        ("dup.txt:3", "the same content as 'dup.txt:1'")
    ]


def test_the_item_limit_stops_the_upload_and_says_so() -> None:
    result = ingest("many.txt", b"a\nb\nc\nd\ne\n", limits=IngestLimits(max_items=3))
    assert texts(result) == ["a", "b", "c"]
    assert [e.message for e in result.errors] == [
        "the upload holds more than 3 items; the rest were not read"
    ]
