"""What every format is: a writer fed the project's header, then each item, then closed."""

from abc import ABC, abstractmethod
from collections.abc import Iterator

from server.export.model import ExportItem, ExportProject
from server.export.sink import Sink


class Writer(ABC):
    """Writes one export into a Sink.

    `close` yields whenever it has written a piece, so that the driver can send it before the
    writer goes on; `discard` lets go of temporary files when an export is abandoned.
    """

    def open(self, project: ExportProject, out: Sink) -> None:
        self.project = project

    @abstractmethod
    def add(self, item: ExportItem, out: Sink) -> None:
        """Writes one item's labels."""

    def close(self, out: Sink) -> Iterator[None]:
        yield

    def discard(self) -> None:
        return None
