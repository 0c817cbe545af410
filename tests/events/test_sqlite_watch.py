"""The SQLite store's watch for other processes' appends never mistakes its own for theirs."""

import asyncio
from pathlib import Path

from events.envelope import NewEvent
from events.project import InstructionsUpdated, ProjectCreated
from events.sqlite_store import SQLiteStore


async def test_own_commits_are_not_taken_for_another_process(tmp_path: Path) -> None:
    store = await SQLiteStore.open(tmp_path / "log.db", watch_interval=0.0005)
    elsewhere: list[int] = []
    seen = store._appended_elsewhere

    def spy(last_seq: int, last_at: float) -> None:
        elsewhere.append(last_seq)
        seen(last_seq, last_at)

    store._appended_elsewhere = spy  # type: ignore[method-assign]

    async def author(k: int) -> None:
        for version in range(150):
            event = (
                ProjectCreated(project_id=f"p{k}", name="P", project_type="ner")
                if version == 0
                else InstructionsUpdated(instructions=str(version))
            )
            await store.append(
                f"project-p{k}", [NewEvent(event_id=f"e{k}-{version}", event=event)], version
            )

    try:
        await asyncio.gather(*(author(k) for k in range(20)))
        # The live tail still reaches back to the first event: no false gap emptied it.
        assert elsewhere == []
        assert (await store.read_all(0, 1))[0].seq == 1
        assert store._tail[0].seq == 1
    finally:
        await store.close()
