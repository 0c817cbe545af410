"""What parsers need of the project: its tags and items, how to find an item a record names,
and a builder that turns a record's labels into the gestures that draw them.

Items are found by, in order: the annolog item id; the exact name the item was imported
under; the name as a zip member path of an annolog export (`dir/a` for `dir/a.png`, or
`dir/a~<item id>`); the base name; the base name without suffix; and for text items, the
text itself. A name that fits several items is refused rather than guessed.
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from events.annotation import (
    AnnotationEvent,
    BoxDrawn,
    BrushErased,
    BrushPainted,
    PolygonDrawn,
    SpanTagged,
    TagApplied,
)
from events.base import ProjectType
from events.project import ImportedItem, TagSpec
from events.projections.workspace import MULTI_LABEL_TYPES, ProjectState
from server.export.naming import ID_MARK, safe_parts, stem_path
from server.labels_import.records import Fault

CLASSIFICATION = frozenset(
    {"image_multiclass", "image_multilabel", "text_multiclass", "text_multilabel"}
)
# Coordinates this far outside the image are taken as rounding and clipped; farther is wrong.
TOLERANCE = 1.0


def _add(index: dict[str, list[str]], key: str, item_id: str) -> None:
    found = index.setdefault(key, [])
    if item_id not in found:
        found.append(item_id)


def _base(name: str) -> str:
    parts = safe_parts(name)
    return parts[-1] if parts else ""


def _without_suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[:dot] if dot > 0 else name


def marked_id(name: str) -> str | None:
    """The item id an export wrote into a member's name (`a~<item id>`), if any."""
    return name.rsplit(ID_MARK, 1)[1] if ID_MARK in name else None


@dataclass
class ItemIndex:
    """Items of the project by every name a label file may use for them."""

    items: dict[str, ImportedItem]
    by_name: dict[str, list[str]] = field(default_factory=dict)
    by_path: dict[str, list[str]] = field(default_factory=dict)
    by_base: dict[str, list[str]] = field(default_factory=dict)
    by_base_stem: dict[str, list[str]] = field(default_factory=dict)
    by_text: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, items: dict[str, ImportedItem]) -> "ItemIndex":
        index = cls(items)
        for item_id, item in items.items():
            if item.name:
                _add(index.by_name, item.name, item_id)
                base = _base(item.name)
                _add(index.by_base, base, item_id)
                _add(index.by_base_stem, _without_suffix(base), item_id)
            _add(index.by_path, stem_path(item), item_id)
            if item.kind == "text":
                index.by_text[item.content_hash] = item_id
        return index

    def find(
        self,
        *,
        item_id: str | None = None,
        name: str | None = None,
        text: str | None = None,
        claimed: frozenset[str] = frozenset(),
    ) -> ImportedItem:
        """The item a record names, or Fault saying why none (or several) fit.

        `claimed` holds items that other records of the file name by id: an export names
        the second of two items called `a.png` `a~<id>`, and the first plain `a`.
        """
        if item_id and item_id in self.items:
            return self.items[item_id]
        if name:
            marked = marked_id(name)
            if marked in self.items:
                return self.items[marked]
            base = _base(name)
            for table, key in (
                (self.by_name, name),
                (self.by_path, "/".join(safe_parts(name))),
                (self.by_base, base),
                (self.by_base_stem, _without_suffix(base)),
            ):
                found = [i for i in table.get(key, ()) if i not in claimed]
                if len(found) > 1:
                    raise Fault(f"{name!r} fits several items of the project; name it by item id")
                if found:
                    return self.items[found[0]]
        if text is not None:
            digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
            found_text = self.by_text.get(digest)
            if found_text is not None:
                return self.items[found_text]
        named = item_id or name or (text[:40] + "…" if text and len(text) > 40 else text)
        raise Fault(f"no item of the project matches {named!r}")


class Context:
    """The project as the import sees it when the file is parsed."""

    def __init__(self, project: ProjectState) -> None:
        self.project_type: ProjectType = project.settings.project_type
        self.multi_label = self.project_type in MULTI_LABEL_TYPES
        self.tags: list[TagSpec] = list(project.tags)
        self.tag_names = {tag.name for tag in self.tags}
        # A copy: the file is parsed in a worker thread while the live model moves on.
        self.items = dict(project.items)
        self._index: ItemIndex | None = None

    @property
    def index(self) -> ItemIndex:
        if self._index is None:
            self._index = ItemIndex.of(self.items)
        return self._index

    def find(
        self,
        *,
        item_id: str | None = None,
        name: str | None = None,
        text: str | None = None,
        claimed: frozenset[str] = frozenset(),
    ) -> ImportedItem:
        return self.index.find(item_id=item_id, name=name, text=text, claimed=claimed)

    def tag(self, name: object) -> str:
        if not isinstance(name, str) or name not in self.tag_names:
            raise Fault(f"tag {name!r} is not in the project's tag set")
        return name

    def builder(self, item: ImportedItem, frame: int = 0) -> "Builder":
        return Builder(self, item, frame)


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Fault(f"{what} must be a number, not {value!r}")
    number = float(value)
    if not np.isfinite(number):
        raise Fault(f"{what} must be finite, not {value!r}")
    return number


def _coordinate(value: object, limit: int, what: str) -> float:
    number = _number(value, what)
    if -TOLERANCE <= number < 0:
        return 0.0
    if limit > 0 and limit < number <= limit + TOLERANCE:
        return float(limit)
    if number < 0 or (limit > 0 and number > limit):
        raise Fault(f"{what} {number!r} is outside the image (0..{limit})")
    return number


class Builder:
    """Collects one item's labels as gestures, converting between region kinds as the
    project's type needs (a box in a polygons project becomes its four corners, a polygon in
    a boxes project its bounding box), with ids that are the same on every import; shapes go
    on `frame` (of a multi-frame item), and so do their ids, unique across the item's frames."""

    def __init__(self, context: Context, item: ImportedItem, frame: int = 0) -> None:
        self.context = context
        self.item = item
        self.frame = frame
        self._id_end = f"-f{frame}" if frame else ""
        self.gestures: list[AnnotationEvent] = []
        self._regions = 0
        self._strokes = 0
        self._spans = 0

    @property
    def project_type(self) -> str:
        return self.context.project_type

    @property
    def part(self) -> int | None:
        """The frame a record of these gestures is part of (None: a single-frame item's)."""
        return self.frame if self.item.frames > 1 else None

    def tag(self, name: object) -> None:
        if self.project_type not in CLASSIFICATION:
            raise Fault(f"a {self.project_type} project takes no classification tags")
        tag = self.context.tag(name)
        if any(isinstance(g, TagApplied) and g.tag == tag for g in self.gestures):
            return
        if not self.context.multi_label and self.gestures:
            raise Fault("a multi-class project takes exactly one tag per item")
        self.gestures.append(TagApplied(tag=tag))

    def _region_id(self) -> str:
        self._regions += 1
        return f"imp{self._regions}{self._id_end}"

    def box(self, name: object, x: object, y: object, w: object, h: object) -> None:
        if self.project_type not in {"bounding_boxes", "polygons", "semantic_segmentation"}:
            raise Fault(f"a {self.project_type} project takes no boxes")
        tag = self.context.tag(name)
        xf, yf, wf, hf = (_number(v, what) for v, what in ((x, "x"), (y, "y"), (w, "w"), (h, "h")))
        x0 = _coordinate(xf, self.item.width, "x")
        y0 = _coordinate(yf, self.item.height, "y")
        x1 = _coordinate(xf + wf, self.item.width, "x + w")
        y1 = _coordinate(yf + hf, self.item.height, "y + h")
        if x1 <= x0 or y1 <= y0:
            raise Fault(f"box [{xf}, {yf}, {wf}, {hf}] is empty")
        if self.project_type == "bounding_boxes":
            # The width as given when nothing was clipped: x + w - x need not give w back.
            bw = wf if (x0, x1) == (xf, xf + wf) else x1 - x0
            bh = hf if (y0, y1) == (yf, yf + hf) else y1 - y0
            self.gestures.append(
                BoxDrawn(
                    region_id=self._region_id(), tag=tag, x=x0, y=y0, w=bw, h=bh, frame=self.frame
                )
            )
        else:
            corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
            self.gestures.append(
                PolygonDrawn(region_id=self._region_id(), tag=tag, points=corners, frame=self.frame)
            )

    def polygon(self, name: object, points: Sequence[Sequence[object]]) -> None:
        if self.project_type not in {"bounding_boxes", "polygons", "semantic_segmentation"}:
            raise Fault(f"a {self.project_type} project takes no polygons")
        tag = self.context.tag(name)
        checked = self._points(points, least=3)
        if self.project_type == "bounding_boxes":
            xs = [p[0] for p in checked]
            ys = [p[1] for p in checked]
            x0, y0 = min(xs), min(ys)
            if max(xs) <= x0 or max(ys) <= y0:
                raise Fault("the polygon encloses nothing")
            self.gestures.append(
                BoxDrawn(
                    region_id=self._region_id(),
                    tag=tag,
                    x=x0,
                    y=y0,
                    w=max(xs) - x0,
                    h=max(ys) - y0,
                    frame=self.frame,
                )
            )
        else:
            self.gestures.append(
                PolygonDrawn(region_id=self._region_id(), tag=tag, points=checked, frame=self.frame)
            )

    def _points(self, points: Sequence[Sequence[object]], least: int) -> list[tuple[float, float]]:
        if not isinstance(points, list | tuple) or len(points) < least:
            raise Fault(f"a shape needs at least {least} points")
        checked = []
        for index, point in enumerate(points):
            if not isinstance(point, list | tuple) or len(point) != 2:
                raise Fault(f"point {index} must be [x, y], not {point!r}")
            checked.append(
                (
                    _coordinate(point[0], self.item.width, f"point {index} x"),
                    _coordinate(point[1], self.item.height, f"point {index} y"),
                )
            )
        return checked

    def stroke(self, name: object, radius: object, points: Sequence[Sequence[object]]) -> None:
        if self.project_type != "semantic_segmentation":
            raise Fault(f"a {self.project_type} project takes no brush strokes")
        if isinstance(radius, bool) or not isinstance(radius, int | float) or radius <= 0:
            raise Fault(f"radius must be a positive number, not {radius!r}")
        checked = self._points(points, least=1)
        self._strokes += 1
        stroke_id = f"imp{self._strokes}{self._id_end}"
        if name is None:
            self.gestures.append(
                BrushErased(
                    stroke_id=stroke_id, radius=float(radius), points=checked, frame=self.frame
                )
            )
        else:
            self.gestures.append(
                BrushPainted(
                    stroke_id=stroke_id,
                    tag=self.context.tag(name),
                    radius=float(radius),
                    points=checked,
                    frame=self.frame,
                )
            )

    def mask(self, values: npt.NDArray[np.integer], tags: dict[int, str]) -> None:
        """A semantic mask (pixel value → tag) as strokes of radius ½ along each row's runs:
        each paints exactly its run's pixels under the projection's rasterizer."""
        if self.project_type != "semantic_segmentation":
            raise Fault(f"a {self.project_type} project takes no masks")
        height, width = values.shape
        if (width, height) != (self.item.width, self.item.height):
            raise Fault(
                f"the mask is {width}x{height} but the image is "
                f"{self.item.width}x{self.item.height}"
            )
        unknown = sorted({int(v) for v in np.unique(values)} - set(tags) - {0})
        if unknown:
            raise Fault(f"mask values {unknown[:10]} name no tag of the legend or project")
        for value in np.unique(values):
            if value != 0:
                self.context.tag(tags[int(value)])
        for y, row in enumerate(values):
            for start, end, value in _runs(row):
                points = [(start + 0.5, y + 0.5)]
                if end - start > 1:
                    points.append((end - 0.5, y + 0.5))
                self._strokes += 1
                self.gestures.append(
                    BrushPainted(
                        stroke_id=f"imp{self._strokes}{self._id_end}",
                        tag=tags[value],
                        radius=0.5,
                        points=points,
                        frame=self.frame,
                    )
                )

    def span(self, name: object, start: object, end: object) -> None:
        if self.project_type != "ner":
            raise Fault(f"a {self.project_type} project takes no spans")
        tag = self.context.tag(name)
        length = len(self.item.text or "")
        if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool):
            raise Fault(f"span offsets must be whole numbers, not {start!r}, {end!r}")
        if not 0 <= start < end <= length:
            raise Fault(f"span [{start}, {end}) is not within the text (0..{length})")
        self._spans += 1
        self.gestures.append(SpanTagged(span_id=f"imp{self._spans}", tag=tag, start=start, end=end))


def _runs(row: npt.NDArray[np.integer]) -> Iterable[tuple[int, int, int]]:
    """(start, end, value) of each run of one non-zero value in a row."""
    if not row.any():
        return []
    change = np.flatnonzero(np.diff(row)) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [len(row)]))
    return [(int(s), int(e), int(row[s])) for s, e in zip(starts, ends, strict=True) if row[s] != 0]
