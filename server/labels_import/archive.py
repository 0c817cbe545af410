"""Members of an uploaded zip of label files, read with the media ingest's guards (sizes,
ratios, unsafe names), and sorted into what annolog's zip exports hold."""

from collections.abc import Iterator

from server.labels_import.context import Context, marked_id
from server.labels_import.frames import FRAME_END
from server.labels_import.records import Problem, Skipped
from server.media.archives import Member, read_archive
from server.media.errors import FileRejected
from server.media.limits import IngestLimits
from server.media.results import FileError

# A label archive holds a member per image: as many members as a project has items.
LIMITS = IngestLimits(max_archive_members=1_000_000, max_items=1_000_000)
SIDE_FOLDERS = ("drafts", "prelabels")


def members(data: bytes) -> Iterator[Member | Problem | Skipped]:
    """Each member of the zip, or the problem with it; drafts and prelabels are skipped."""
    try:
        for entry in read_archive("labels.zip", data, LIMITS):
            match entry:
                case Member(name=name):
                    if name.split("/", 1)[0] in SIDE_FOLDERS:
                        yield Skipped(name, "drafts and prelabels are not submitted labels")
                    else:
                        yield entry
                case FileError(name=name, message=message):
                    yield Problem(name, message)
    except FileRejected as exc:
        yield Problem("file", exc.message)


def after_folder(path: str, folder: str) -> str | None:
    """The part of `path` after its first `folder/` part (None if it has none)."""
    parts = path.split("/")
    if folder not in parts[:-1]:
        return None
    return "/".join(parts[parts.index(folder) + 1 :])


def claimed_ids(files: list[Member], context: Context) -> frozenset[str]:
    """Items that members name by id (`a~<item id>.txt`), which no plain name then means."""
    found = set()
    for member in files:
        stem = member.name.rsplit(".", 1)[0]
        marked = marked_id(stem)
        if marked is not None and marked not in context.items:
            # A frame's member of a multi-frame item: `a~<item id>_f<frame>`.
            marked = FRAME_END.sub("", marked)
        if marked is not None and marked in context.items:
            found.add(marked)
    return frozenset(found)
