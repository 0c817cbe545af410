"""Decisions of a label import, pure like those of server/decide: which page the import
actor holds, and which gestures turn its draft of an item into the imported label.

The import is a labeler named `import` with a session of its own per file: it is handed the
items of the file as pages (`PageAssigned`), draws each label with ordinary gestures on the
item's stream, and submits the page. So the log shows, per item, exactly where a label came
from, and every rule a labeler's gestures pass (tags in the tag set, shapes inside the image,
complete before submit) holds for imported labels too.

Re-importing a file changes nothing: an item whose `import` submission already equals the
record's label gets no event. A changed label replaces the previous import's: its draft is
discarded (an event) and drawn anew. Gesture ids are a hash of the file, the record, the
item's stream version and the gesture's position, so a retried import appends nothing twice.
"""

import hashlib
from dataclasses import dataclass

import msgspec

from events.annotation import AnnotationEvent, DraftDiscarded
from events.codec import decode_event, encode
from events.envelope import IncomingEvent
from events.projections.drafts import HANDLERS, Draft
from events.projections.workspace import ProjectState
from events.queue import PageAssigned, QueueEvent
from server.decide.gestures import check_gestures
from server.decide.queue import incomplete_reason, open_lease
from server.errors import Unprocessable
from server.labels_import.records import Record

IMPORT_ACTOR = "import"
PAGE_SIZE = 100


def session_for(file_hash: str) -> str:
    return f"import-{file_hash[:24]}"


def event_id(file_hash: str, record: Record, version: int, index: int) -> str:
    key = f"{file_hash}\0{record.where}\0{record.item_id}\0{version}\0{index}"
    return "imp-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def drawn(gestures: list[AnnotationEvent], multi_label: bool) -> Draft:
    """The draft the gestures make on an empty one, as the projection folds them."""
    draft = Draft()
    for gesture in gestures:
        HANDLERS[type(gesture)](draft, gesture, multi_label)
    return draft


def checked(gestures: list[AnnotationEvent]) -> list[AnnotationEvent]:
    """The gestures as the log will hold them: every constraint of their types checked."""
    result = []
    for index, gesture in enumerate(gestures):
        try:
            decoded = decode_event(encode(gesture))
        except msgspec.ValidationError as exc:
            raise Unprocessable(f"gesture {index + 1}: {exc}", field=f"$[{index}]") from None
        result.append(decoded)
    return result  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Plan:
    """What importing one record takes: gestures to append (maybe none), then a submit."""

    record: Record
    incoming: list[IncomingEvent]


def plan(project: ProjectState, record: Record, file_hash: str) -> Plan | None:
    """The events that make the record the import actor's submitted label of its item
    (None when it already is); Unprocessable / Conflict when the project refuses it."""
    gestures = checked(record.gestures)
    target = drawn(gestures, project.multi_label)
    reason = incomplete_reason(project.settings.project_type, target)
    if reason is not None:
        raise Unprocessable(f"the label {reason}")
    state = project.annotations.get(record.item_id)
    work = None if state is None else state.work.get(IMPORT_ACTOR)
    wanted = encode(target)
    if work is not None and work.submitted is not None and encode(work.submitted) == wanted:
        return None
    current = Draft() if state is None else state.draft_of(IMPORT_ACTOR)
    if encode(current) == wanted:
        return Plan(record, [])
    if not current.is_empty():
        gestures = [DraftDiscarded(reason="labeler"), *gestures]
    version = 0 if state is None else state.version
    ids = [event_id(file_hash, record, version, i) for i in range(len(gestures))]
    check_gestures(project, record.item_id, IMPORT_ACTOR, list(zip(ids, gestures, strict=True)))
    return Plan(
        record,
        [IncomingEvent(event_id=i, event=g) for i, g in zip(ids, gestures, strict=True)],
    )


def assign_page(
    project: ProjectState, session: str, items: list[str], now: float
) -> list[QueueEvent]:
    """Opens the import's session if need be and hands it the items it does not hold yet."""
    events: list[QueueEvent] = open_lease(project, session, IMPORT_ACTOR, now)
    held = set() if events else set(project.queue.page_of(session))
    missing = [item for item in items if item not in held]
    if missing:
        events.append(
            PageAssigned(
                session_id=session,
                labeler=IMPORT_ACTOR,
                items=missing,
                lease_until=now + project.settings.lease_seconds,
            )
        )
    return events
