"""Plane geometry of regions in the image's pixel space: boxes, polygons, areas, overlaps.

Coordinates are continuous: pixel (x, y) covers [x, x + 1) × [y, y + 1), so a box drawn over
the whole of a W × H image is (0, 0, W, H), as COCO and the client both have it.
"""

from collections.abc import Sequence

from events.projections.drafts import Region

Box = tuple[float, float, float, float]
Points = Sequence[tuple[float, float]]


def bounds(points: Points) -> Box:
    """The (x, y, w, h) box around the points."""
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    x0, y0 = min(xs), min(ys)
    return (x0, y0, max(xs) - x0, max(ys) - y0)


def box_of(region: Region) -> Box:
    """A box region's (x, y, w, h), or the box around a polygon."""
    if region.kind == "box":
        return (region.x, region.y, region.w, region.h)
    return bounds(region.points)


def polygon_of(region: Region) -> list[tuple[float, float]]:
    """A polygon's points, or a box's four corners clockwise from its top left."""
    if region.kind == "polygon":
        return list(region.points)
    x, y, w, h = region.x, region.y, region.w, region.h
    return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]


def shoelace(points: Points) -> float:
    """The area a simple polygon encloses."""
    total = 0.0
    count = len(points)
    for index in range(count):
        x0, y0 = points[index]
        x1, y1 = points[(index + 1) % count]
        total += x0 * y1 - x1 * y0
    return abs(total) / 2.0


def area_of(region: Region) -> float:
    if region.kind == "box":
        return region.w * region.h
    return shoelace(region.points)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when either is empty)."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = min(ax + aw, bx + bw) - max(ax, bx)
    ih = min(ay + ah, by + bh) - max(ay, by)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0
