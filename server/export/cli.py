"""`annolog export` and `annolog labels import`: the API's export and label import from a shell.

    annolog export PROJECT --format coco [--as-of SEQ|TIME] [--include drafts,prelabels]
                   [--overlap all|majority] [-o FILE | -o -]
    annolog labels import PROJECT FILE --format coco

Both open the store the server would (`--db`, ANNOLOG_DATABASE, DATABASE_URL). An export
replays the project from the log up to the seq asked for (the end by default), item by item,
and writes to FILE (default `<project>-<format>-seq<seq>.<ext>`; `-` is standard output).
Heavy modules are imported when a command runs, so that `annolog --help` stays quick.
"""

import argparse
import sys
from pathlib import Path

COMMANDS = frozenset({"export", "labels"})


def add_parsers(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    export = commands.add_parser("export", help="export a project's labels (COCO, YOLO, ...)")
    export.add_argument("project")
    export.add_argument("--format", required=True, help="csv, jsonl, coco, voc, yolo, ...")
    export.add_argument("--as-of", help="a seq, or a time (ISO-8601 or unix seconds)")
    export.add_argument("--include", default="", help="drafts,prelabels")
    export.add_argument("--overlap", default="all", choices=["all", "majority"])
    export.add_argument("-o", "--output", help="file to write (- for standard output)")
    labels = commands.add_parser("labels", help="import existing labels").add_subparsers(
        dest="action", required=True
    )
    load = labels.add_parser("import", help="import a label file as the `import` actor")
    load.add_argument("project")
    load.add_argument("file")
    load.add_argument("--format", required=True, help="coco, yolo, voc, png_masks, conll, ...")


def run(args: argparse.Namespace) -> int:
    import asyncio

    from server.errors import ApiError

    try:
        if args.command == "export":
            return asyncio.run(
                export(
                    args.project, args.format, args.as_of, args.include, args.overlap, args.output
                )
            )
        path = Path(args.file)
        return asyncio.run(import_file(args.project, path.name, path.read_bytes(), args.format))
    except ApiError as exc:
        print(f"annolog: {exc.message}", file=sys.stderr)
        return 2


async def export(
    project_id: str,
    format_name: str,
    as_of: str | None,
    include: str,
    overlap: str,
    output: str | None,
) -> int:
    from server.app import open_stores
    from server.export.dicom_refs import uid_lookup
    from server.export.options import options_from, seq_of
    from server.export.run import export_chunks, pick_format
    from server.export.source import ReplaySource
    from server.media.storage import MediaStore
    from server.settings import Settings

    settings = Settings.from_env()
    options = options_from(include, overlap)
    store, users = await open_stores(settings)
    try:
        seq = await seq_of(store, as_of)
        last = await store.last_seq()
        source = await ReplaySource.open(store, project_id, last if seq is None else seq, options)
        fmt = pick_format(format_name, source.project.project_type)
        name = output or f"{project_id}-{fmt.name}-seq{source.seq}.{fmt.extension}"
        written = 0
        chunks = export_chunks(source, fmt, uid_lookup(MediaStore(settings.media_dir)))
        # Opened once the project and format are known good, so a refusal leaves no file.
        out = sys.stdout.buffer if name == "-" else Path(name).open("wb")  # noqa: ASYNC230, SIM115
        try:
            async for chunk in chunks:
                out.write(chunk)
                written += len(chunk)
        finally:
            if out is sys.stdout.buffer:
                out.flush()
            else:
                out.close()
        print(
            f"{project_id} as of seq {source.seq}: {fmt.name}, {written:,} bytes"
            + ("" if name == "-" else f" in {name}"),
            file=sys.stderr,
        )
    finally:
        await store.close()
        await users.close()
    return 0


async def import_file(project_id: str, file_name: str, data: bytes, format_name: str) -> int:
    from server.app import open_stores
    from server.commands import Commands
    from server.labels_import.run import import_labels
    from server.live import LiveModel
    from server.settings import Settings

    store, users = await open_stores(Settings.from_env())
    live = LiveModel(store, store)
    await live.start()
    try:
        report = await import_labels(
            Commands(store, live), project_id, format_name, data, file_name
        )
    finally:
        await live.stop()
        await store.close()
        await users.close()
    for problem in report.errors:
        print(f"{file_name}: {problem.where}: {problem.message}", file=sys.stderr)
    print(
        f"{report.records} labels read from {file_name}: {report.imported} imported, "
        f"{report.unchanged} already there, {len(report.errors)} refused, "
        f"{len(report.skipped)} skipped (session {report.session})"
    )
    return 1 if report.errors and not (report.imported or report.unchanged) else 0
