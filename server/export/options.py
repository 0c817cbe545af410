"""`as_of`, as the API and the CLI take it: a seq, or a time that names the seq of its moment."""

import datetime

from events.store import EventStore
from server.errors import BadRequest
from server.export.model import ExportOptions

INCLUDES = frozenset({"drafts", "prelabels"})


def parse_time(raw: str) -> float | None:
    """Unix seconds from an ISO-8601 time (no zone: UTC) or a number with a decimal point."""
    if "." in raw and raw.replace(".", "", 1).isdigit():
        return float(raw)
    try:
        moment = datetime.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


async def seq_of(store: EventStore, raw: str | None) -> int | None:
    """The seq that `as_of` names: digits are a seq, a time names the newest event at or
    before it; None (or "now") is now."""
    if raw is None or raw in {"", "now"}:
        return None
    if raw.isdigit():
        return int(raw)
    at = parse_time(raw)
    if at is None:
        raise BadRequest(
            "as_of must be a seq (digits) or a time (ISO-8601, or unix seconds like 1714564800.5)",
            field="as_of",
        )
    return await store.seq_at(at)


def options_from(include: str, overlap: str) -> ExportOptions:
    """Options from `include=drafts,prelabels` and `overlap=all|majority`."""
    wanted = {part.strip() for part in include.split(",") if part.strip()}
    unknown = wanted - INCLUDES
    if unknown:
        raise BadRequest(
            f"include takes drafts and prelabels, not {', '.join(sorted(unknown))}",
            field="include",
        )
    if overlap not in {"all", "majority"}:
        raise BadRequest("overlap must be all or majority", field="overlap")
    return ExportOptions(
        include_drafts="drafts" in wanted,
        include_prelabels="prelabels" in wanted,
        overlap="majority" if overlap == "majority" else "all",
    )
