"""Archives: members become items; unsafe names, links, nesting and bombs are refused per member."""

import io
import stat
import tarfile
import zipfile
import zlib

import pytest

from server.media import IngestLimits, IngestResult, UploadTooLargeError, ingest
from tests.server.media.files import ct_small, image_bytes, symlink, tar_bytes, zip_bytes


def errors(result: IngestResult) -> list[tuple[str, str]]:
    return [(e.name, e.message) for e in result.errors]


def test_zip_members_become_items_named_by_their_path() -> None:
    png, jpeg = image_bytes("PNG"), image_bytes("JPEG", seed=1)
    data = zip_bytes(
        ("batch1/", b""),
        ("batch1/cat.png", png),
        ("batch1/./dog.jpg", jpeg),
        ("scans/ct.dcm", ct_small()),
        ("texts.csv", b"text\nhello\n"),
        ("__MACOSX/batch1/._cat.png", b"\x00\x05\x16\x07"),
        ("batch1/.DS_Store", b"junk"),
        ("copy/cat.png", png),
    )
    result = ingest("upload.zip", data)
    assert result.errors == []
    assert [(f.name, f.kind) for f in result.items] == [
        ("batch1/cat.png", "image"),
        ("batch1/dog.jpg", "image"),
        ("scans/ct.dcm", "dicom"),
        ("texts.csv:2", "text"),
    ]
    assert result.items[0].data == png
    assert [(s.name, s.reason) for s in result.skipped] == [
        ("__MACOSX/batch1/._cat.png", "macOS resource data, not content"),
        ("batch1/.DS_Store", "file-manager metadata, not content"),
        ("copy/cat.png", "the same content as 'batch1/cat.png'"),
    ]


def test_zip_names_that_escape_are_refused_and_the_rest_imported() -> None:
    data = zip_bytes(
        ("../evil.txt", b"evil"),
        ("/etc/passwd.txt", b"root"),
        ("C:\\windows\\win.txt", b"win"),
        ("ok/../../up.txt", b"up"),
        ("ok\\..\\..\\back.txt", b"back"),
        ("fine.txt", b"fine"),
    )
    result = ingest("upload.zip", data)
    assert [f.text for f in result.items] == ["fine"]
    climbs = "the member's name climbs out of the archive with `..`"
    absolute = "the member's name is an absolute path"
    assert errors(result) == [
        ("../evil.txt", climbs),
        ("/etc/passwd.txt", absolute),
        ("C:\\windows\\win.txt", absolute),
        ("ok/../../up.txt", climbs),
        ("ok\\..\\..\\back.txt", climbs),
    ]


def test_a_zip_bomb_is_stopped_by_the_ratio_long_before_it_expands() -> None:
    zeros = b"\x00" * (50 * 2**20)
    data = zip_bytes(("zeros.txt", zeros), ("fine.txt", b"fine"))
    assert len(data) < 100_000
    result = ingest("bomb.zip", data)
    assert [f.text for f in result.items] == ["fine"]
    [(name, message)] = errors(result)
    assert name == "zeros.txt"
    assert message == "the member expands more than 100× its compressed size (a zip bomb?)"


def test_the_archive_total_stops_the_archive_at_the_member_that_crosses_it() -> None:
    data = zip_bytes(*[(f"{i}.txt", bytes([65 + i]) * 600 + b"\n") for i in range(5)])
    result = ingest("many.zip", data, limits=IngestLimits(max_total_uncompressed=2000))
    assert [f.name for f in result.items] == ["0.txt:1", "1.txt:1", "2.txt:1"]
    [(name, message)] = errors(result)
    assert name == "3.txt"
    assert message == (
        "the archive expands to more than 2,000 bytes; this member and the rest were not read"
    )


def with_declared_size(data: bytes, size: int) -> bytes:
    """Return the one-member zip `data` with its uncompressed size rewritten in both headers."""
    patched = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = patched.find(signature) + offset
        patched[at : at + 4] = size.to_bytes(4, "little")
    return bytes(patched)


def test_header_sizes_are_never_trusted() -> None:
    limits = IngestLimits(max_file_bytes=4096)
    small_claim = with_declared_size(zip_bytes(("big.txt", b"y" * 5000)), 10)
    [(_, message)] = errors(ingest("lies.zip", small_claim, limits=limits))
    assert message.startswith("the member could not be decompressed")

    # A claim of 4 GB for five bytes is no reason to refuse, and reserves nothing.
    huge_claim = with_declared_size(zip_bytes(("small.txt", b"small")), 2**32 - 2)
    assert [f.text for f in ingest("lies.zip", huge_claim, limits=limits).items] == ["small"]


def test_member_count_and_size_limits() -> None:
    data = zip_bytes(*[(f"{i}.txt", b"x%d" % i) for i in range(5)])
    result = ingest("many.zip", data, limits=IngestLimits(max_archive_members=4))
    assert result.items == []
    assert errors(result) == [("many.zip", "the archive has 5 members, the limit is 4")]

    big = zip_bytes(("big.txt", b"y" * 5000), ("small.txt", b"small"))
    result = ingest("big.zip", big, limits=IngestLimits(max_file_bytes=4096))
    assert [f.text for f in result.items] == ["small"]
    assert errors(result) == [("big.txt", "the member expands to more than 4,096 bytes")]


def test_nested_archives_links_and_damage_are_refused_per_member() -> None:
    link = zipfile.ZipInfo("link.png")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    fifo = zipfile.ZipInfo("pipe.txt")
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    inner = zip_bytes(("a.txt", b"a"))
    data = zip_bytes(
        ("inner.zip", inner),
        ("disguised.txt", inner),
        ("inner.tar.gz", b"whatever"),
        (link, b"/etc/passwd"),
        (fifo, b""),
        ("ok.txt", b"ok"),
    )
    result = ingest("outer.zip", data)
    assert [f.text for f in result.items] == ["ok"]
    nested = "nested archives are not expanded: upload it on its own"
    assert errors(result) == [
        ("inner.zip", nested),
        ("disguised.txt", nested),
        ("inner.tar.gz", nested),
        ("link.png", "the member is a symbolic link"),
        ("pipe.txt", "the member is not a regular file"),
    ]


def test_zip_members_compressed_without_an_output_bound_are_refused_unread() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("zeros.txt", b"\x00" * (20 * 2**20), zipfile.ZIP_BZIP2)
        archive.writestr("fine.txt", b"fine", zipfile.ZIP_STORED)
    result = ingest("bz.zip", out.getvalue())
    assert [f.text for f in result.items] == ["fine"]
    assert errors(result) == [
        (
            "zeros.txt",
            "the member uses zip compression method 12; only stored and deflated members are read",
        )
    ]


def test_a_corrupted_member_fails_its_crc_alone() -> None:
    data = bytearray(zip_bytes(("a.txt", b"a" * 100), ("b.txt", b"b")))
    # Flip the stored CRC of a.txt in its local header and central directory entry.
    for signature, offset in ((b"PK\x03\x04", 14), (b"PK\x01\x02", 16)):
        at = data.find(signature) + offset
        data[at : at + 4] = (zlib.crc32(b"other") & 0xFFFFFFFF).to_bytes(4, "little")
    result = ingest("crc.zip", bytes(data))
    assert [f.text for f in result.items] == ["b"]
    [(name, message)] = errors(result)
    assert name == "a.txt"
    assert message.startswith("the member could not be decompressed: Bad CRC-32")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("text.zip", b"plain text", "the file is named .zip but is not a zip archive: of unknown"),
        ("image.tgz", image_bytes(), "the file is named .tgz but is not a tar archive: PNG data"),
        ("broken.zip", b"PK\x03\x04" + b"\x00" * 40, "the zip archive is damaged"),
        ("empty.zip", zip_bytes(), "the archive holds no files"),
        ("t.tar.gz", b"\x1f\x8b\x08\x00garbage", "the tar archive is damaged"),
    ],
)
def test_an_unreadable_archive_is_one_error(name: str, data: bytes, message: str) -> None:
    result = ingest(name, data)
    assert result.items == []
    [(error_name, error_message)] = errors(result)
    assert error_name == name
    assert error_message.startswith(message)


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
def test_tar_members_become_items_and_links_are_refused(mode: str) -> None:
    hardlink = tarfile.TarInfo("hard.png")
    hardlink.type, hardlink.linkname = tarfile.LNKTYPE, "a.png"
    device = tarfile.TarInfo("dev.txt")
    device.type = tarfile.CHRTYPE
    data = tar_bytes(
        ("a.png", image_bytes()),
        symlink("shadow.txt", "/etc/shadow"),
        hardlink,
        device,
        ("/abs.txt", b"abs"),
        ("x/../../up.txt", b"up"),
        ("notes.txt", b"one\ntwo\n"),
        mode=mode,
    )
    result = ingest(
        "upload" + {"w": ".tar", "w:gz": ".tgz", "w:bz2": ".tar.bz2", "w:xz": ".tar.xz"}[mode], data
    )
    assert [f.name for f in result.items] == ["a.png", "notes.txt:1", "notes.txt:2"]
    assert errors(result) == [
        ("shadow.txt", "the member is a link"),
        ("hard.png", "the member is a link"),
        ("dev.txt", "the member is not a regular file"),
        ("/abs.txt", "the member's name is an absolute path"),
        ("x/../../up.txt", "the member's name climbs out of the archive with `..`"),
    ]


def test_a_tar_gz_bomb_is_stopped_by_the_stream_ratio() -> None:
    data = tar_bytes(("zeros.txt", b"\x00" * (20 * 2**20)), ("after.txt", b"after"), mode="w:gz")
    result = ingest("bomb.tar.gz", data)
    assert result.items == []
    [(name, message)] = errors(result)
    assert name == "zeros.txt"
    assert message.startswith("the archive expands more than 100× its compressed size")


def test_tar_header_sizes_are_checked_before_reading() -> None:
    data = tar_bytes(("big.txt", b"z" * 5000), ("small.txt", b"small"))
    result = ingest("sizes.tar", data, limits=IngestLimits(max_file_bytes=4096))
    assert [f.text for f in result.items] == ["small"]
    assert errors(result) == [("big.txt", "the member has 5,000 bytes, the limit is 4,096")]


def test_an_upload_over_the_limit_is_refused_whole() -> None:
    with pytest.raises(UploadTooLargeError) as caught:
        ingest("a.zip", b"x" * 101, limits=IngestLimits(max_upload_bytes=100))
    assert caught.value.status == 413
    assert caught.value.message == "the upload has 101 bytes, the limit is 100"
