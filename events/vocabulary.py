"""The union of every event: the schema of the log."""

from events.annotation import ANNOTATION_EVENTS, AnnotationEvent
from events.assist import ASSIST_EVENTS, AssistEvent
from events.base import Event
from events.project import PROJECT_EVENTS, ProjectEvent
from events.queue import QUEUE_EVENTS, QueueEvent

AnyEvent = ProjectEvent | QueueEvent | AnnotationEvent | AssistEvent

ALL_EVENTS: tuple[type[Event], ...] = (
    *PROJECT_EVENTS,
    *QUEUE_EVENTS,
    *ANNOTATION_EVENTS,
    *ASSIST_EVENTS,
)


def tag_of(cls: type[Event]) -> str:
    """The tag an event class is written under in the log."""
    return str(cls.__struct_config__.tag)


EVENT_TAGS: dict[type[Event], str] = {cls: tag_of(cls) for cls in ALL_EVENTS}
