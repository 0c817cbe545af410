"""A payload under a retired tag is read through its upcaster, and only then."""

import msgspec
import pytest

from events.annotation import BoxDrawn
from events.codec import decode_recorded
from events.upcasting import UPCASTERS


def old_body() -> bytes:
    return msgspec.msgpack.encode(
        {
            "seq": 7,
            "stream": "item-p-a",
            "version": 1,
            "event_id": "e7",
            "actor": "ann",
            "session": "s",
            "at": 1.0,
            "event": {"type": "annotation.box_v0", "id": "r1", "left": 1, "top": 2, "size": [3, 4]},
        }
    )


def test_unknown_tag_without_upcaster_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError):
        decode_recorded(old_body())


def test_retired_tag_is_read_as_todays_event(monkeypatch: pytest.MonkeyPatch) -> None:
    def box_v0(old: dict[str, object]) -> dict[str, object]:
        width, height = old["size"]  # type: ignore[misc]
        return {
            "type": "annotation.box_drawn",
            "region_id": old["id"],
            "x": old["left"],
            "y": old["top"],
            "w": width,
            "h": height,
        }

    monkeypatch.setitem(UPCASTERS, "annotation.box_v0", box_v0)
    recorded = decode_recorded(old_body())
    assert recorded.seq == 7
    assert recorded.event == BoxDrawn(region_id="r1", x=1.0, y=2.0, w=3.0, h=4.0)
