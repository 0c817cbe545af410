"""The bounds ingest holds every upload to, with their defaults."""

import msgspec

from events.base import MAX_TEXT

MiB = 2**20
GiB = 2**30


class IngestLimits(msgspec.Struct, frozen=True, kw_only=True):
    """Bounds on one upload; every default is documented beside its field."""

    # The whole request body: one file or one archive.
    max_upload_bytes: int = 512 * MiB
    # One file, or one archive member once decompressed.
    max_file_bytes: int = 256 * MiB
    # Width × height of one image or DICOM frame: 100 megapixels.
    max_pixels: int = 100_000_000
    # Members of one archive, directories included.
    max_archive_members: int = 10_000
    # Bytes one archive may expand to, all members together.
    max_total_uncompressed: int = 2 * GiB
    # Uncompressed / compressed size of a member (a .tar.gz: of the whole stream).
    max_ratio: int = 100
    # Characters of one text item; cannot exceed what the event log accepts.
    max_text_chars: int = MAX_TEXT
    # Items one upload may yield, so a text file of short lines stays bounded in memory.
    max_items: int = 100_000

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            if getattr(self, name) < 1:
                raise ValueError(f"IngestLimits.{name} must be at least 1")
        if self.max_text_chars > MAX_TEXT:
            raise ValueError(f"IngestLimits.max_text_chars cannot exceed {MAX_TEXT:,}")
