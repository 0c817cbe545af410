"""A zip archive written front to back into a Sink, for exports of one file per item.

Each member is made whole in memory (an XML, a label file, a PNG mask), so its CRC and sizes
are known before its local header is written and no data descriptor is needed. The central
directory, which must come last, goes to a spooled temporary file (memory up to 256 KiB,
disk beyond) rather than a list, so that memory stays flat however many members there are.
ZIP64 end records are written when there are more than 65,535 members or the archive passes
4 GiB; a single member must stay under 4 GiB. Names are UTF-8 (flag bit 11).

Which names were written is kept in a Bloom filter of fixed size, not a set, again so that
memory stays flat: `taken` never misses a name written, and says yes to one never written
about once in 200,000 at 100,000 members, which only costs that member a longer name (see
`naming.member_path`). Keeping names unique is the caller's part.
"""

import hashlib
import struct
import tempfile
import time
import zlib
from collections.abc import Iterator
from typing import IO

from server.export.sink import Sink

LOCAL = struct.Struct("<IHHHHHIIIHH")
CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
END = struct.Struct("<IHHHHIIH")
END64 = struct.Struct("<IQHHIIQQQQ")
LOCATOR64 = struct.Struct("<IIQI")
UTF8 = 0x0800
STORED, DEFLATED = 0, 8
MAX32 = 0xFFFFFFFF
MAX16 = 0xFFFF
SPOOL_BYTES = 256 * 1024
PIECE = 64 * 1024
UNIX_FILE = (0o100644 << 16) & 0xFFFFFFFF
BLOOM_BITS = 8 * 2**20
BLOOM_HASHES = 4


class NameFilter:
    """A Bloom filter of member names: no false "no", rare false "yes"."""

    def __init__(self) -> None:
        self.bits = bytearray(BLOOM_BITS // 8)

    def _positions(self, name: bytes) -> list[int]:
        digest = hashlib.blake2b(name, digest_size=4 * BLOOM_HASHES).digest()
        return [
            int.from_bytes(digest[4 * i : 4 * i + 4], "little") % BLOOM_BITS
            for i in range(BLOOM_HASHES)
        ]

    def add(self, name: bytes) -> None:
        for position in self._positions(name):
            self.bits[position >> 3] |= 1 << (position & 7)

    def __contains__(self, name: bytes) -> bool:
        return all(self.bits[p >> 3] & (1 << (p & 7)) for p in self._positions(name))


def dos_time(moment: float) -> tuple[int, int]:
    t = time.gmtime(max(moment, 315532800.0))  # 1980-01-01, the earliest a zip can say
    return (
        (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2),
        ((t.tm_year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday,
    )


class ZipStream:
    """Writes members into `out` as they come; `close` writes the central directory."""

    def __init__(self, out: Sink, moment: float | None = None) -> None:
        self.out = out
        self.offset = 0
        self.count = 0
        self.names = NameFilter()
        self._time, self._date = dos_time(time.time() if moment is None else moment)
        self._central: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by close() or discard()
            max_size=SPOOL_BYTES
        )
        self._central_size = 0

    def taken(self, name: str) -> bool:
        """Whether a member of this name may have been written (see the module's note)."""
        return name.encode("utf-8") in self.names

    def add(self, name: str, data: bytes, *, compress: bool = True) -> None:
        """Adds one member, whose name the caller has made unique."""
        encoded = name.encode("utf-8")
        self.names.add(encoded)
        if len(data) >= MAX32:
            raise ValueError(f"zip member {name!r} is 4 GiB or more")
        crc = zlib.crc32(data)
        method = STORED
        body = data
        if compress and len(data) > 64:
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)
            packed = packer.compress(data) + packer.flush()
            if len(packed) < len(data):
                method, body = DEFLATED, packed
        header = LOCAL.pack(
            0x04034B50,
            20,
            UTF8,
            method,
            self._time,
            self._date,
            crc,
            len(body),
            len(data),
            len(encoded),
            0,
        )
        self.out.write(header)
        self.out.write(encoded)
        self.out.write(body)
        extra = b""
        offset_field = self.offset
        if self.offset >= MAX32:
            extra = struct.pack("<HHQ", 0x0001, 8, self.offset)
            offset_field = MAX32
        record = CENTRAL.pack(
            0x02014B50,
            (3 << 8) | 45,
            45 if extra else 20,
            UTF8,
            method,
            self._time,
            self._date,
            crc,
            len(body),
            len(data),
            len(encoded),
            len(extra),
            0,
            0,
            0,
            UNIX_FILE,
            offset_field,
        )
        self._central.write(record + encoded + extra)
        self._central_size += len(record) + len(encoded) + len(extra)
        self.offset += len(header) + len(encoded) + len(body)
        self.count += 1

    def close(self) -> Iterator[None]:
        """Writes the central directory and end records, a piece at a time (yield: drain)."""
        start = self.offset
        self._central.seek(0)
        while piece := self._central.read(PIECE):
            self.out.write(piece)
            yield
        self._central.close()
        size = self._central_size
        end_at = start + size
        zip64 = self.count >= MAX16 or start >= MAX32 or size >= MAX32
        if zip64:
            self.out.write(
                END64.pack(
                    0x06064B50, 44, (3 << 8) | 45, 45, 0, 0, self.count, self.count, size, start
                )
            )
            self.out.write(LOCATOR64.pack(0x07064B50, 0, end_at, 1))
        self.out.write(
            END.pack(
                0x06054B50,
                0,
                0,
                min(self.count, MAX16),
                min(self.count, MAX16),
                min(size, MAX32),
                min(start, MAX32),
                0,
            )
        )
        yield

    def discard(self) -> None:
        """Lets go of the central directory's temporary file (the export was abandoned)."""
        self._central.close()
