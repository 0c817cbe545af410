"""The streaming writer: formats write small pieces, the response takes large chunks.

Formats call `write` for every line, record or file they make; the export's driver takes
whatever has reached `CHUNK` bytes after each item and sends it, so memory holds at most
about one chunk plus one item's output, however large the export.
"""

from collections.abc import Iterator

CHUNK = 64 * 1024


class Sink:
    """A buffer of pending output that hands it on in chunks of at least `chunk` bytes."""

    def __init__(self, chunk: int = CHUNK) -> None:
        self.chunk = chunk
        self._parts: list[bytes] = []
        self._size = 0
        self.written = 0

    def write(self, data: bytes) -> None:
        if data:
            self._parts.append(data)
            self._size += len(data)
            self.written += len(data)

    def ready(self) -> Iterator[bytes]:
        """The pending output as one chunk, once there is enough of it."""
        if self._size >= self.chunk:
            yield self.take()

    def take(self) -> bytes:
        """Everything pending, now."""
        data = b"".join(self._parts)
        self._parts.clear()
        self._size = 0
        return data
