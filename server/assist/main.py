"""`annolog assist`: the assistant worker as a process, on the log the web server uses.

The CLI sets OPENBLAS_NUM_THREADS=1 before numpy is first imported (threaded BLAS made
training about 12× slower on two cores, and the worker shares the machine with the web).
SIGTERM or SIGINT stops it after saving its checkpoint; it resumes from there.
"""

import asyncio
import contextlib
import logging
import os
import signal
from pathlib import Path

from events.postgres_store import PostgresStore
from events.sqlite_store import SQLiteStore
from server.assist.follower import Store
from server.assist.rounds import AssistSettings
from server.assist.worker import Worker
from server.leadership import leadership_for
from server.media.storage import MediaStore

log = logging.getLogger("annolog.assist")
PARENT_CHECK_SECONDS = 1.0
LEADERSHIP_RETRY_SECONDS = 2.0


async def open_log(database: str) -> Store:
    """The store of the log the web server writes: a SQLite file or PostgreSQL."""
    if database == ":memory:":
        raise SystemExit("the assistant needs the web server's log: a SQLite file or PostgreSQL")
    if database.startswith(("postgres://", "postgresql://")):
        return await PostgresStore.open(database)
    return await SQLiteStore.open(database.removeprefix("sqlite:///"))


async def serve(database: str, media_dir: Path, settings: AssistSettings) -> None:
    """Runs the worker until SIGTERM / SIGINT (or until it fails)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Exactly one worker trains at a time across processes; a standby takes over when the
    # leader's process dies (on SQLite the one process always leads).
    leadership = leadership_for(database, "assist", LEADERSHIP_RETRY_SECONDS)
    await leadership.start()
    waiting = asyncio.create_task(leadership.wait_until_leader(), name="assist-leadership")
    stopping_early = asyncio.create_task(stop.wait(), name="assist-stop-early")
    await asyncio.wait({waiting, stopping_early}, return_when=asyncio.FIRST_COMPLETED)
    for task in (waiting, stopping_early):
        task.cancel()
    if stop.is_set():
        await leadership.stop()
        return
    store = await open_log(database)
    worker = Worker(store, MediaStore(media_dir), settings)
    working = asyncio.create_task(worker.run(), name="assist")
    stopping = asyncio.create_task(_until_stopped(stop), name="assist-stop")
    try:
        await asyncio.wait({working, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (working, stopping):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stopping
        with contextlib.suppress(asyncio.CancelledError):
            await working
        await store.close()
        await leadership.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    log.info("assistant stopped at seq %s", worker.workspace.seq)


async def _until_stopped(stop: asyncio.Event) -> None:
    """Until a signal, or until the process that started this one is gone (`annolog demo`
    sets ANNOLOG_ASSIST_PARENT): a worker must not outlive the server it was started with."""
    parent = os.environ.get("ANNOLOG_ASSIST_PARENT")
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(PARENT_CHECK_SECONDS):
                await stop.wait()
        if parent is not None and str(os.getppid()) != parent:
            log.info("the process that started the assistant is gone; stopping")
            return


def run(database: str, media_dir: Path, settings: AssistSettings | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = settings or AssistSettings.from_env()
    log.info(
        "assistant on %s (media in %s): first round at %s labels, then ×%s",
        database,
        media_dir,
        settings.first_round,
        settings.growth,
    )
    asyncio.run(serve(database, media_dir, settings))
    return 0
