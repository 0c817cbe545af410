"""The `annolog` command line: demo, serve, users, imports and rebuilding read models."""

import argparse
import asyncio
import getpass
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from events.postgres_store import PostgresStore
from events.projections.replay import WORKSPACE, rebuild
from events.projections.workspace import snapshot
from events.sqlite_store import SQLiteStore
from server.export import cli as export_cli

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
    store: SQLiteStore | PostgresStore
    if db.startswith(("postgres://", "postgresql://")):
        store = await PostgresStore.open(db)
    else:
        store = await SQLiteStore.open(db.removeprefix("sqlite:///"))
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


def _configure(db: str, media: str | None) -> None:
    """Points the settings (read from the environment by the app) at these paths."""
    os.environ["ANNOLOG_DATABASE"] = db
    os.environ["ANNOLOG_MEDIA_DIR"] = media or f"{Path(db).with_suffix('')}-media"


def serve(host: str, port: int) -> int:
    import uvicorn

    from server.app import create_app
    from server.settings import Settings

    uvicorn.run(
        create_app(Settings.from_env()),
        host=host,
        port=port,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        log_level="info",
    )
    return 0


def demo(host: str, port: int) -> int:
    from server.demo.seed import seed
    from server.settings import Settings

    settings = Settings.from_env()
    print(f"preparing the demo in {settings.database} (media in {settings.media_dir}) ...")
    users = asyncio.run(seed(settings))
    print(f"\nannolog demo at http://{host}:{port}/ — sign in as:")
    for user in users:
        print(f"  {user.username:8} password {user.password:22} ({user.role})")
    print()
    # The assistant is a process of its own on the same log (the Procfile's `assist`); it
    # also stops by itself if this process dies without stopping it.
    worker = subprocess.Popen(
        [sys.executable, "-c", "from server.cli import main; raise SystemExit(main(['assist']))"],
        env={**os.environ, "ANNOLOG_ASSIST_PARENT": str(os.getpid())},
    )

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    # uvicorn re-raises the SIGTERM it shut down on: end through `finally`, not by the default.
    signal.signal(signal.SIGTERM, stop)
    try:
        return serve(host, port)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:  # busy in a long training step: its log is safe
            worker.kill()
            worker.wait()


def assist(first_round: int | None, growth: float | None) -> int:
    # Before numpy is first imported: threaded BLAS made training ~12× slower on two cores.
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    if first_round is not None:
        os.environ["ANNOLOG_ASSIST_FIRST_ROUND"] = str(first_round)
    if growth is not None:
        os.environ["ANNOLOG_ASSIST_GROWTH"] = str(growth)
    from server.assist.main import run
    from server.settings import Settings

    settings = Settings.from_env()
    return run(settings.database, settings.media_dir)


def _password_for(username: str, password: str | None) -> str:
    return (
        password
        or os.environ.get("ANNOLOG_PASSWORD")
        or getpass.getpass(f"password for {username}: ")
    )


async def manage_user(args: argparse.Namespace) -> int:
    """Runs `annolog user ACTION`; a refusal (bad name, unknown user, ...) is printed, exit 1."""
    from server.app import open_stores
    from server.auth.errors import AuthError
    from server.settings import Settings

    store, users = await open_stores(Settings.from_env())
    try:
        match args.action:
            case "add":
                secret = _password_for(args.username, args.password)
                user = await users.add_user(args.username, secret, is_admin=args.admin)
                print(f"added {user.username}{' (admin)' if user.is_admin else ''}")
            case "passwd":
                secret = _password_for(args.username, args.password)
                await users.set_password(args.username, secret)
                print(f"new password for {args.username}; their sessions are signed out")
            case "disable" | "enable":
                user = await users.set_disabled(args.username, args.action == "disable")
                print(f"{args.action}d {user.username}")
            case "signout":
                await users.revoke_sessions(args.username)
                print(f"signed {args.username} out everywhere (API tokens stay valid)")
            case "list":
                for user in await users.list_users():
                    flags = [
                        f for f, on in (("admin", user.is_admin), ("disabled", user.disabled)) if on
                    ]
                    print(user.username + (f" ({', '.join(flags)})" if flags else ""))
    except AuthError as exc:
        print(f"annolog user {args.action}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        await users.close()
        await store.close()
    return 0


async def import_files(project: str, files: Sequence[tuple[str, bytes]], actor: str) -> int:
    from server.app import open_stores
    from server.commands import Commands
    from server.decide import projects as rules
    from server.live import LiveModel
    from server.media.ingest import ingest
    from server.media.limits import IngestLimits
    from server.media.storage import MediaStore
    from server.settings import Settings

    settings = Settings.from_env()
    store, users = await open_stores(settings)
    live = LiveModel(store, store)
    await live.start()
    media = MediaStore(settings.media_dir)
    failed = 0
    try:
        live.project(project)
        accepted = []
        for name, blob in files:
            result = ingest(Path(name).name, blob, limits=IngestLimits())
            for item in result.items:
                if item.data is not None:
                    media.put(item.data)
            accepted += result.items
            for error in result.errors:
                failed += 1
                print(f"{name}: {error.name}: {error.message}", file=sys.stderr)
        recorded = await Commands(store, live).project_events(
            project,
            actor,
            "cli",
            lambda p: rules.import_items(p, [a.item() for a in accepted])[0] if p else [],
        )
        count = sum(len(getattr(r.event, "items", ())) for r in recorded)
        print(
            f"imported {count} items into {project}"
            f" ({len(accepted) - count} already there, {failed} refused)"
        )
    finally:
        await live.stop()
        await store.close()
        await users.close()
    return 1 if failed and not accepted else 0


async def migrate(source: str, target: str) -> int:
    from server.migrate import MigrationError, migrate_sqlite_to_postgres

    try:
        report = await migrate_sqlite_to_postgres(source, target, ProgressBar())
    except MigrationError as exc:
        print(f"annolog migrate: {exc}", file=sys.stderr)
        return 1
    print(
        f"copied {report.copied} events ({report.events} in the log, last seq"
        f" {report.last_seq}), {report.users} users, {report.tokens} API tokens,"
        f" {report.checkpoints} checkpoints\n"
        f"verified: same count, last seq and SHA-256 {report.checksum}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="annolog", description=__doc__)
    parser.add_argument(
        "--db",
        default=os.environ.get("ANNOLOG_DATABASE", DEFAULT_DB),
        help="SQLite file of the log",
    )
    parser.add_argument(
        "--media", default=os.environ.get("ANNOLOG_MEDIA_DIR"), help="folder of item media"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("demo", "create demo users and projects, then serve"),
        ("serve", "serve the web app"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, default=8000)
    user = commands.add_parser("user", help="manage users").add_subparsers(
        dest="action", required=True
    )
    add = user.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument("--admin", action="store_true", help="may create projects and manage users")
    add.add_argument("--password", help="(default: $ANNOLOG_PASSWORD, else asked)")
    passwd = user.add_parser("passwd", help="set a user's password (signs them out everywhere)")
    passwd.add_argument("username")
    passwd.add_argument("--password", help="(default: $ANNOLOG_PASSWORD, else asked)")
    for action, text in (
        ("disable", "refuse a user's sign-ins, sessions and API tokens"),
        ("enable", "let a disabled user sign in again"),
        ("signout", "end every session cookie of a user (API tokens stay valid)"),
    ):
        user.add_parser(action, help=text).add_argument("username")
    user.add_parser("list", help="list users")
    project = commands.add_parser("project", help="manage projects").add_subparsers(
        dest="action", required=True
    )
    imp = project.add_parser("import", help="import files or archives into a project")
    imp.add_argument("project")
    imp.add_argument("files", nargs="+")
    imp.add_argument("--as", dest="actor", default="admin", help="who the log names as importer")
    helper = commands.add_parser("assist", help="run the ML assistant (training, prelabels)")
    helper.add_argument("--first-round", type=int, help="labels before the first round (50)")
    helper.add_argument("--growth", type=float, help="label growth between rounds (1.25)")
    rep = commands.add_parser("reproject", help="drop a read model and rebuild it from the log")
    rep.add_argument("--model", default=WORKSPACE, help="read model to rebuild")
    rep.add_argument(
        "--resume", action="store_true", help="continue from the saved checkpoint instead"
    )
    mig = commands.add_parser(
        "migrate", help="copy a log and its users from SQLite to PostgreSQL (resumable)"
    )
    mig.add_argument("source", help="sqlite:///path/to/annolog.db")
    mig.add_argument("target", help="postgresql://user@host/database")
    export_cli.add_parsers(commands)
    args = parser.parse_args(argv)
    if args.command == "migrate":
        return asyncio.run(migrate(args.source, args.target))
    if args.command == "demo" and args.db == DEFAULT_DB and "ANNOLOG_DATABASE" not in os.environ:
        args.db = "annolog-demo.db"
    _configure(args.db, args.media)
    if args.command in export_cli.COMMANDS:
        return export_cli.run(args)
    if args.command == "demo":
        return demo(args.host, args.port)
    if args.command == "serve":
        return serve(args.host, args.port)
    if args.command == "assist":
        return assist(args.first_round, args.growth)
    if args.command == "user":
        return asyncio.run(manage_user(args))
    if args.command == "project":
        files = [(name, Path(name).read_bytes()) for name in args.files]
        return asyncio.run(import_files(args.project, files, args.actor))
    from server.settings import Settings

    # DATABASE_URL, when set, names the log (as for the server).
    database = Settings.from_env().database
    return asyncio.run(reproject(database, args.model, fresh=not args.resume))
