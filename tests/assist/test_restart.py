"""A restarted worker resumes from its checkpoint: nothing is redone, nothing written twice."""

import asyncio
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from events.annotation import TagApplied
from events.assist import ItemsClustered, ModelTrained, PrelabelProposed
from events.sqlite_store import SQLiteStore
from server.assist.follower import CHECKPOINT
from server.assist.publisher import Publisher
from server.assist.rounds import AssistSettings
from server.assist.worker import Worker
from server.media.storage import MediaStore
from tests.assist.conftest import SETTINGS, Lab, digit_pngs

DIGITS = [str(d) for d in range(10)]


async def _digits(lab: Lab, count: int, labeled: int) -> list[str]:
    data = digit_pngs(count)
    ids = [item for item, _, _ in data]
    await lab.create("image_multiclass", DIGITS)
    await lab.images(data)
    await lab.label_truly(ids[:labeled])
    return ids


async def test_a_restarted_worker_writes_nothing_twice(
    lab: Lab, store: SQLiteStore, media: MediaStore
) -> None:
    await _digits(lab, 300, 250)
    first = Worker(store, media, SETTINGS)
    await first.start()
    assert await first.run_until_idle() == 1
    await first.stop()
    seq = await store.last_seq()
    saved = await store.load_checkpoint(CHECKPOINT)
    assert saved is not None
    assert saved[0] == seq, "the checkpoint is the last seq handled"

    second = Worker(store, media, SETTINGS)
    await second.start()
    assert second.workspace.seq == seq
    assert second.workspace.projects["p"].models[0].round == 1, "what it trained, from the log"
    assert await second.run_until_idle() == 0
    await second.stop()
    assert await store.last_seq() == seq


class Interrupted(Exception):
    pass


class StopsAfterTheRound(Publisher):
    """Appends ModelTrained, then dies before its proposals and clusters (a crash)."""

    async def propose(self, project_id: str, proposals: object) -> None:
        raise Interrupted


async def test_an_interrupted_round_is_finished_once_with_the_model_it_stored(
    lab: Lab, store: SQLiteStore, media: MediaStore
) -> None:
    await _digits(lab, 300, 250)
    crashing = Worker(store, media, SETTINGS)
    crashing.publisher = StopsAfterTheRound(crashing.follower, media)
    await crashing.start()
    with pytest.raises(Interrupted):
        await crashing.step()
    await crashing.stop()
    (trained,) = [r.event for r in await lab.events(ModelTrained)]
    assert not await lab.events(PrelabelProposed)
    assert not await lab.events(ItemsClustered)

    finishing = Worker(store, media, SETTINGS)
    await finishing.start()
    assert await finishing.run_until_idle() == 1
    assert [r.event for r in await lab.events(ModelTrained)] == [trained], "not trained again"
    (clustered,) = await lab.events(ItemsClustered)
    assert isinstance(clustered.event, ItemsClustered)
    assert clustered.event.round == 1
    proposals = await lab.events(PrelabelProposed)
    assert proposals
    assert {r.event.model_hash for r in proposals} == {trained.model_hash}  # type: ignore[union-attr]
    assert len({r.stream for r in proposals}) == len(proposals), "one proposal per item"

    # Appending the round's proposals again (a retry after a crash) writes nothing.
    seq = await store.last_seq()
    again = [(r.stream.removeprefix("item-p-"), r.event) for r in proposals]
    await finishing.publisher.propose("p", again)  # type: ignore[arg-type]
    assert await store.last_seq() == seq
    await finishing.stop()


async def test_a_round_that_cannot_train_waits_for_more_labels(
    lab: Lab, store: SQLiteStore, media: MediaStore
) -> None:
    data = digit_pngs(80)
    await lab.create("image_multiclass", DIGITS)
    await lab.images(data)
    await lab.label([(item, [TagApplied(tag="7")]) for item, _, _ in data[:50]])
    worker = Worker(store, media, SETTINGS)
    await worker.start()
    assert await worker.run_until_idle() == 1, "one attempt: every label is 7"
    assert await worker.run_until_idle() == 0, "not again until the labels change"
    assert not await lab.events(ModelTrained)
    await worker.stop()


def test_the_worker_process_stops_on_sigterm_and_resumes_without_duplicates(
    tmp_path: Path,
) -> None:
    db, media_dir = tmp_path / "log.db", tmp_path / "media"

    async def build() -> None:
        store = await SQLiteStore.open(db)
        await _digits(Lab(store, MediaStore(media_dir)), 200, 60)
        await store.close()

    asyncio.run(build())

    def types() -> dict[str, int]:
        with sqlite3.connect(db) as conn:
            return dict(conn.execute("SELECT type, count(*) FROM events GROUP BY type").fetchall())

    def start() -> subprocess.Popen[str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("OPENBLAS_NUM_THREADS", None)
        code = "from server.cli import main; raise SystemExit(main())"
        return subprocess.Popen(
            [sys.executable, "-c", code, "--db", str(db), "--media", str(media_dir), "assist"],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_for_line(process: subprocess.Popen[str], text: str) -> list[str]:
        """Lines of the worker's log up to the one containing `text`."""
        assert process.stderr is not None
        lines: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ready, _, _ = select.select([process.stderr], [], [], 0.5)
            if ready:
                line = process.stderr.readline()
                assert line, "the worker exited:\n" + "".join(lines)
                lines.append(line)
                if text in line:
                    return lines
        raise AssertionError(f"no {text!r} within 120 s:\n" + "".join(lines))

    def stop(process: subprocess.Popen[str]) -> str:
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=60)
        assert process.returncode == 0, rest
        return rest

    worker = start()
    wait_for_line(worker, "round 1 recorded")
    stop(worker)
    after_first = types()
    assert after_first["assist.model_trained"] == 1
    assert after_first["assist.items_clustered"] == 1
    with sqlite3.connect(db) as conn:
        (checkpoint_seq,) = conn.execute(
            "SELECT seq FROM read_models WHERE name = ?", (CHECKPOINT,)
        ).fetchone()
        (last,) = conn.execute("SELECT max(seq) FROM events").fetchone()
    assert checkpoint_seq == last, "the checkpoint is saved on the way out"

    again = start()
    wait_for_line(again, f"assistant at seq {last}")
    time.sleep(0.5)
    stop(again)
    assert types() == after_first


def test_settings_refuse_a_schedule_that_never_grows() -> None:
    with pytest.raises(ValueError, match="growth"):
        AssistSettings(growth=1.0)
    with pytest.raises(ValueError, match="first_round"):
        AssistSettings(first_round=1)


def test_a_worker_started_by_a_server_does_not_outlive_it(tmp_path: Path) -> None:
    """`annolog demo` starts the worker with ANNOLOG_ASSIST_PARENT; killing the server (even
    with SIGKILL, which leaves it no chance to stop its child) stops the worker too."""
    db, media_dir = tmp_path / "log.db", tmp_path / "media"
    args = ["--db", str(db), "--media", str(media_dir), "assist"]
    assist = f"from server.cli import main; raise SystemExit(main({args!r}))"
    parent_code = (
        "import os, subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', {assist!r}],"
        " env={**os.environ, 'ANNOLOG_ASSIST_PARENT': str(os.getpid())})\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        deadline = time.monotonic() + 60
        while not db.exists():  # the worker opened the log
            assert time.monotonic() < deadline
            time.sleep(0.2)
        time.sleep(1.0)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 30
        while Path(f"/proc/{child}").exists() and _state(child) != "Z":
            assert time.monotonic() < deadline, "the worker outlived its server"
            time.sleep(0.2)
    finally:
        parent.stdout.close()
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (FileNotFoundError, IndexError):
        return "Z"
