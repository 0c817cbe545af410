"""The `annolog` command line."""

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence

from events.projections.replay import WORKSPACE, rebuild
from events.projections.workspace import snapshot
from events.sqlite_store import SQLiteStore

DEFAULT_DB = "annolog.db"


class ProgressBar:
    """A one-line text progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, width: int = 40) -> None:
        self.width = width
        self.started = time.perf_counter()
        self._drawn = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - self._drawn < 0.1 and done < total:
            return
        self._drawn = now
        fraction = done / total if total else 1.0
        filled = int(fraction * self.width)
        rate = done / max(now - self.started, 1e-9)
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} events ({rate:,.0f}/s)"
        )
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


async def reproject(db: str, name: str, fresh: bool) -> int:
    store = await SQLiteStore.open(db)
    try:
        total = await store.last_seq()
        saved = await store.load_checkpoint(name)
        if saved is not None and not fresh:
            print(f"resuming {name} from seq {saved[0]} of {total}", file=sys.stderr)
        workspace = await rebuild(store, store, name=name, fresh=fresh, progress=ProgressBar())
        size = len(snapshot(workspace))
        print(
            f"{name}: rebuilt up to seq {workspace.seq}, {len(workspace.projects)} projects,"
            f" {size:,} bytes"
        )
    finally:
        await store.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="annolog", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    rep = commands.add_parser("reproject", help="drop a read model and rebuild it from the log")
    rep.add_argument("--db", default=DEFAULT_DB, help="SQLite file of the log")
    rep.add_argument("--model", default=WORKSPACE, help="read model to rebuild")
    rep.add_argument(
        "--resume", action="store_true", help="continue from the saved checkpoint instead"
    )
    args = parser.parse_args(argv)
    return asyncio.run(reproject(args.db, args.model, fresh=not args.resume))
