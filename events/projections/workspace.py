"""The read model of everything: per project its settings, items, annotations, queue, progress.

`evolve(workspace, recorded)` folds one event; it does no I/O and never fails on a valid
log. `snapshot` gives the model's bytes: a model rebuilt from the log must give exactly the
bytes of the one kept up to date event by event.
"""

from collections.abc import Callable, Sequence

import msgspec

from events.annotation import ANNOTATION_EVENTS
from events.assist import (
    AssistantDisabled,
    ItemsClustered,
    ModelTrained,
    PrelabelProposed,
    UserModelRegistered,
)
from events.base import Event
from events.codec import encode
from events.envelope import Recorded
from events.project import (
    ImportedItem,
    InstructionsUpdated,
    ItemsImported,
    MemberAdded,
    MemberRemoved,
    PatientIdentifiersShown,
    ProjectCreated,
    TagAdded,
    TagsDefined,
    TagSpec,
)
from events.projections.drafts import HANDLERS
from events.projections.items import ItemState, evolve_item, submit
from events.projections.queue_state import QueueState, evolve_queue
from events.queue import QUEUE_EVENTS, PageSubmitted

MULTI_LABEL_TYPES = frozenset({"image_multilabel", "text_multilabel"})


class Progress(msgspec.Struct, kw_only=True):
    """Counts for the progress bars: items done, submissions per labeler and per tag."""

    items: int = 0
    done: int = 0
    submissions: int = 0
    by_labeler: dict[str, int] = {}
    by_tag: dict[str, int] = {}
    prelabels_accepted: int = 0
    prelabels_corrected: int = 0


class ProjectState(msgspec.Struct, kw_only=True):
    settings: ProjectCreated
    tags: list[TagSpec] = []
    members: dict[str, str] = {}
    items: dict[str, ImportedItem] = {}
    annotations: dict[str, ItemState] = {}
    queue: QueueState = msgspec.field(default_factory=QueueState)
    progress: Progress = msgspec.field(default_factory=Progress)
    models: list[ModelTrained] = []
    clusters: ItemsClustered | None = None
    # The admin's own model (the latest registered), and models the worker stopped using.
    user_model: UserModelRegistered | None = None
    disabled: dict[str, AssistantDisabled] = {}
    version: int = 0
    assist_version: int = 0

    @property
    def multi_label(self) -> bool:
        return self.settings.project_type in MULTI_LABEL_TYPES

    def item_state(self, item: str) -> ItemState:
        state = self.annotations.get(item)
        if state is None:
            state = self.annotations[item] = ItemState(multi_label=self.multi_label)
        return state


class Workspace(msgspec.Struct, kw_only=True, dict=True):
    """All projects as of `seq`, the last event folded in."""

    projects: dict[str, ProjectState] = {}
    seq: int = 0

    def item_by_stream(self, stream: str) -> ItemState | None:
        """The state of an item stream's item, found through a cache kept beside the struct."""
        cache: dict[str, ItemState] = self.__dict__.setdefault("by_stream", {})
        state = cache.get(stream)
        if state is None:
            _, project_id, item = stream.split("-", 2)
            project = self.projects.get(project_id)
            if project is None:
                return None
            state = cache[stream] = project.item_state(item)
        return state


def snapshot(workspace: Workspace) -> bytes:
    return encode(workspace)


def restore(data: bytes) -> Workspace:
    return msgspec.msgpack.decode(data, type=Workspace)


def evolve(workspace: Workspace, recorded: Recorded) -> Workspace:
    """Folds one recorded event into the workspace (in place) and returns it."""
    _DISPATCH[type(recorded.event)](workspace, recorded)
    workspace.seq = recorded.seq
    return workspace


def evolve_page(workspace: Workspace, page: Sequence[Recorded]) -> Workspace:
    """Folds events in order, exactly as `evolve` one by one, but faster for replays.

    Most of a log is drawing gestures by a labeler already at work on an item; those take a
    path inlined here (file the gesture, fold it into the draft if that is folded) and
    everything else goes through `evolve`. The rebuild property tests hold the two equal.
    """
    cache: dict[str, ItemState] = workspace.__dict__.setdefault("by_stream", {})
    handlers = HANDLERS
    dispatch = _DISPATCH
    for recorded in page:
        event = recorded.event
        handler = handlers.get(type(event))
        if handler is not None:
            state = cache.get(recorded.stream)
            if state is not None:
                work = state.work.get(recorded.actor)
                if work is not None:
                    work.done.append((recorded.event_id, event))  # type: ignore[arg-type]
                    if work.undone:
                        work.undone.clear()
                    draft = work.__dict__.get("draft")
                    if draft is not None:
                        handler(draft, event, state.multi_label)
                    state.last_seq = recorded.seq
                    state.version = recorded.version
                    continue
        dispatch[type(event)](workspace, recorded)
    if page:
        workspace.seq = page[-1].seq
    return workspace


def _project_of(workspace: Workspace, stream: str) -> ProjectState | None:
    return workspace.projects.get(stream.split("-", 2)[1])


def _created(workspace: Workspace, r: Recorded) -> None:
    event = r.event
    assert isinstance(event, ProjectCreated)
    workspace.projects[event.project_id] = ProjectState(settings=event, version=r.version)


def _settings(workspace: Workspace, r: Recorded) -> None:
    project = _project_of(workspace, r.stream)
    if project is None:
        return
    project.version = r.version
    match r.event:
        case TagsDefined(tags=tags):
            project.tags = list(tags)
        case TagAdded(tag=tag):
            project.tags = [t for t in project.tags if t.name != tag.name] + [tag]
        case InstructionsUpdated(instructions=text):
            project.settings = msgspec.structs.replace(project.settings, instructions=text)
        case PatientIdentifiersShown(shown=shown):
            project.settings = msgspec.structs.replace(
                project.settings, patient_identifiers_shown=shown
            )
        case MemberAdded(user=user, role=role):
            project.members[user] = role
        case MemberRemoved(user=user):
            project.members.pop(user, None)
        case ItemsImported(items=items):
            for item in items:
                if item.item_id not in project.items:
                    project.progress.items += 1
                    project.queue.add_item(item.item_id)
                project.items[item.item_id] = item


def _queue(workspace: Workspace, r: Recorded) -> None:
    project = _project_of(workspace, r.stream)
    if project is None:
        return
    event = r.event
    queue = project.queue
    queue.version = r.version
    overlap = project.settings.overlap
    if isinstance(event, PageSubmitted):
        was_open = [item for item in event.items if item in queue.open_items]
        evolve_queue(queue, event, r.at, overlap)
        _count_submission(project, event, r.seq)
        project.progress.done += sum(1 for item in was_open if item not in queue.open_items)
    else:
        evolve_queue(queue, event, r.at, overlap)  # type: ignore[arg-type]


def _count_submission(project: ProjectState, event: PageSubmitted, seq: int) -> None:
    progress = project.progress
    for item in event.items:
        state = project.item_state(item)
        previous = state.work.get(event.labeler)
        if previous is not None and previous.submitted is not None:
            for tag in previous.submitted.tag_names():
                progress.by_tag[tag] -= 1
        else:
            progress.submissions += 1
            progress.by_labeler[event.labeler] = progress.by_labeler.get(event.labeler, 0) + 1
        work = submit(state, event.labeler, seq)
        assert work.submitted is not None
        for tag in work.submitted.tag_names():
            progress.by_tag[tag] = progress.by_tag.get(tag, 0) + 1
        if work.prelabel_outcome == "accepted":
            progress.prelabels_accepted += 1
        elif work.prelabel_outcome == "corrected":
            progress.prelabels_corrected += 1


def _annotation(workspace: Workspace, r: Recorded) -> None:
    state = workspace.item_by_stream(r.stream)
    if state is not None:
        evolve_item(state, r.event_id, r.event, r.actor)  # type: ignore[arg-type]
        state.last_seq = r.seq
        state.version = r.version


def _assist(workspace: Workspace, r: Recorded) -> None:
    project = _project_of(workspace, r.stream)
    if project is None:
        return
    project.assist_version = r.version
    match r.event:
        case ModelTrained():
            project.models.append(r.event)
        case ItemsClustered():
            project.clusters = r.event
        case UserModelRegistered(model_hash=model_hash):
            project.user_model = r.event
            # Registering a model again is the admin's way to try it again.
            project.disabled.pop(model_hash, None)
        case AssistantDisabled(model_hash=model_hash):
            project.disabled[model_hash] = r.event


_DISPATCH: dict[type[Event], Callable[[Workspace, Recorded], None]] = {
    ProjectCreated: _created,
    TagsDefined: _settings,
    TagAdded: _settings,
    InstructionsUpdated: _settings,
    PatientIdentifiersShown: _settings,
    MemberAdded: _settings,
    MemberRemoved: _settings,
    ItemsImported: _settings,
    **dict.fromkeys(QUEUE_EVENTS, _queue),
    **dict.fromkeys(ANNOTATION_EVENTS, _annotation),
    PrelabelProposed: _annotation,
    ModelTrained: _assist,
    ItemsClustered: _assist,
    UserModelRegistered: _assist,
    AssistantDisabled: _assist,
}
