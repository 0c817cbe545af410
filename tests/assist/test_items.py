"""Items as the models read them, and items that cannot be read."""

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from events.assist import ModelTrained
from events.project import ImportedItem
from server.assist.items import ItemReader, ItemUnreadable
from server.assist.worker import Worker
from server.media.storage import MediaStore
from tests.assist.conftest import Lab, digit_pngs, png


def _item(media: MediaStore, data: bytes, kind: str = "image") -> ImportedItem:
    digest = media.put(data)
    return ImportedItem(item_id="x", kind=kind, content_hash=digest, size_bytes=len(data))  # type: ignore[arg-type]


def test_pictures_come_as_grey_or_colour_pixels(media: MediaStore) -> None:
    reader = ItemReader(media)
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8)
    assert reader.image(_item(media, png(grey))).shape == (8, 8)
    colour = np.zeros((6, 5, 3), dtype=np.uint8)
    assert reader.image(_item(media, png(colour))).shape == (6, 5, 3)
    out = io.BytesIO()
    Image.fromarray(colour).convert("P").save(out, format="GIF")
    assert reader.image(_item(media, out.getvalue())).shape == (6, 5, 3), "palette → RGB"


def test_dicom_comes_windowed_as_the_browser_shows_it(media: MediaStore) -> None:
    path = Path(pydicom.__file__).parent / "data" / "test_files" / "CT_small.dcm"
    pixels = ItemReader(media).image(_item(media, path.read_bytes(), "dicom"))
    assert pixels.dtype == np.uint8
    assert pixels.shape == (128, 128)
    assert pixels.max() > pixels.min()


@pytest.mark.parametrize(
    ("data", "kind", "problem"),
    [
        (b"\x89PNG\r\n\x1a\n broken", "image", "cannot be decoded"),
        (b"DICM" * 40, "dicom", "no displayable image"),
    ],
)
def test_an_unreadable_item_is_named(
    media: MediaStore, data: bytes, kind: str, problem: str
) -> None:
    with pytest.raises(ItemUnreadable, match=problem) as caught:
        ItemReader(media).image(_item(media, data, kind))
    assert caught.value.item == "x"


def test_missing_media_is_unreadable(tmp_path: Path) -> None:
    item = ImportedItem(item_id="gone", kind="image", content_hash="ab" * 32, size_bytes=1)
    with pytest.raises(ItemUnreadable, match="gone"):
        ItemReader(MediaStore(tmp_path)).image(item)


async def test_a_round_skips_items_it_cannot_read(lab: Lab, worker: Worker) -> None:
    data = digit_pngs(80)
    broken = [(item, b"\x89PNG\r\n\x1a\n cut short", truth) for item, _, truth in data[:2]]
    await lab.create("image_multiclass", [str(d) for d in range(10)])
    await lab.images(broken + data[2:])
    await lab.label_truly([item for item, _, _ in data[:60]])
    assert await worker.run_until_idle() == 1
    (trained,) = [r.event for r in await lab.events(ModelTrained)]
    assert isinstance(trained, ModelTrained)
    assert trained.metrics["unreadable"] == 2
    assert trained.metrics["labels"] == 58
