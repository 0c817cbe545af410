"""What a parser makes of a file: a label per item, or a problem naming the record at fault.

Record    one item's label as the file has it (`where`: the line, record or member), or one
          frame's part of it (`frame`; the parts of one item's frames make one label)
Problem   a record that cannot be imported, and why; the rest of the file goes on
Skipped   a record left out on purpose (a draft or prelabel in an annolog export)
Fault     raised inside a parser for the record at hand, caught and made a Problem
"""

from dataclasses import dataclass

from events.annotation import AnnotationEvent


class Fault(Exception):
    """The record at hand cannot be imported; `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Record:
    """One item's label: the gestures that draw it on an empty draft, in order; with `frame`
    set, the label's part on that frame of a multi-frame item."""

    where: str
    item_id: str
    gestures: list[AnnotationEvent]
    frame: int | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    where: str
    message: str


@dataclass(frozen=True, slots=True)
class Skipped:
    where: str
    reason: str


Parsed = Record | Problem | Skipped
