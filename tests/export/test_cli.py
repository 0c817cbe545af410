"""`annolog export` and `annolog labels import` on a SQLite log, as a shell user runs them."""

import asyncio
import hashlib
from pathlib import Path

import pytest

from events.annotation import SpanTagged
from events.envelope import NewEvent
from events.project import ImportedItem, ItemsImported, ProjectCreated, TagsDefined, TagSpec
from events.queue import PageAssigned, PageSubmitted
from events.sqlite_store import SQLiteStore
from events.vocabulary import AnyEvent
from server.cli import main

TEXT = "Zoë flew to Zürich."


async def make_log(path: Path) -> int:
    """Projects p (labeled) and q (the same item, unlabeled); the seq after p's label."""
    store = await SQLiteStore.open(str(path))
    count = 0

    def new(event: AnyEvent) -> NewEvent:
        nonlocal count
        count += 1
        return NewEvent(event_id=f"e{count}", event=event, actor="ann", session="s")

    item = ImportedItem(
        item_id="t1",
        kind="text",
        content_hash=hashlib.sha256(TEXT.encode()).hexdigest(),
        size_bytes=len(TEXT.encode()),
        name="texts.txt:1",
        text=TEXT,
    )
    tags = [TagSpec(name="PER", colour="#ff0000"), TagSpec(name="LOC", colour="#00ff00")]
    for project in ("p", "q"):
        await store.append(
            f"project-{project}",
            [
                new(ProjectCreated(project_id=project, name=project, project_type="ner")),
                new(TagsDefined(tags=tags)),
                new(ItemsImported(items=[item])),
            ],
            0,
        )
    queue = [PageAssigned(session_id="s", labeler="ann", items=["t1"], lease_until=1e10)]
    await store.append("queue-p", [new(e) for e in queue], 0)
    await store.append(
        "item-p-t1",
        [
            new(SpanTagged(span_id="a", tag="PER", start=0, end=3)),
            new(SpanTagged(span_id="b", tag="LOC", start=12, end=18)),
        ],
        0,
    )
    await store.append(
        "queue-p", [new(PageSubmitted(session_id="s", labeler="ann", items=["t1"]))], 1
    )
    labeled = await store.last_seq()
    await store.close()
    return labeled


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int]:
    # The CLI points these at its --db; monkeypatch puts them back after the test.
    monkeypatch.setenv("ANNOLOG_DATABASE", str(tmp_path / "log.db"))
    monkeypatch.setenv("ANNOLOG_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    seq = asyncio.run(make_log(tmp_path / "log.db"))
    return tmp_path / "log.db", seq


def test_export_then_import_into_another_project(
    log: tuple[Path, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, labeled = log
    out = tmp_path / "p.conll"
    assert main(["--db", str(db), "export", "p", "--format", "conll", "-o", str(out)]) == 0
    conll = out.read_text(encoding="utf-8")
    assert conll == ("-DOCSTART- -X- t1 O\n\nZoë B-PER\nflew O\nto O\nZürich B-LOC\n. O\n\n")
    assert f"as of seq {labeled}" in capsys.readouterr().err

    assert main(["--db", str(db), "labels", "import", "q", str(out), "--format", "conll"]) == 0
    assert "1 imported" in capsys.readouterr().out
    assert main(["--db", str(db), "labels", "import", "q", str(out), "--format", "conll"]) == 0
    assert "0 imported, 1 already there" in capsys.readouterr().out

    assert main(["--db", str(db), "export", "q", "--format", "conll", "-o", "-"]) == 0
    assert capsys.readouterr().out == conll
    # As of before p's label, p has nothing to export.
    assert (
        main(
            [
                "--db",
                str(db),
                "export",
                "p",
                "--format",
                "jsonl",
                "--as-of",
                str(labeled - 1),
                "-o",
                "-",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out == ""


def test_refusals_go_to_stderr(log: tuple[Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    db, _ = log
    assert main(["--db", str(db), "export", "p", "--format", "coco", "-o", "-"]) == 2
    assert "coco does not fit a ner project" in capsys.readouterr().err
    assert main(["--db", str(db), "export", "zzz", "--format", "conll", "-o", "-"]) == 2
    assert "project zzz did not exist" in capsys.readouterr().err
