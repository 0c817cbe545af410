"""Binary masks → polygons: one outer boundary per 8-connected component, simplified.

The boundary follows pixel edges (crack following), so before simplification the polygon
covers exactly the component's pixels, holes aside: a polygon is the outer boundary only;
the mask keeps the holes. Douglas–Peucker then drops points within `tolerance` pixels of
the simplified line. Points are (x, y) in pixel-corner coordinates: (0, 0) is the top-left
corner of the top-left pixel.
"""

from dataclasses import dataclass

import numpy as np

from models.types import BoolArray, Float64Array, IntArray

Point = tuple[float, float]

# Headings, clockwise on screen (y grows down): east, south, west, north.
_STEP = ((0, 1), (1, 0), (0, -1), (-1, 0))
# For each heading, the pixels ahead-left and ahead-right of a corner, as (dr, dc) from it.
_AHEAD = (
    ((-1, 0), (0, 0)),
    ((0, 0), (0, -1)),
    ((0, -1), (-1, -1)),
    ((-1, -1), (-1, 0)),
)


@dataclass(frozen=True)
class Component:
    label: int
    area: int
    first: tuple[int, int]
    """(row, column) of its first pixel in raster order."""


def components(mask: BoolArray) -> tuple[IntArray, list[Component]]:
    """8-connected components: a label image (0 = background) and each component, in order."""
    m = np.asarray(mask, dtype=np.bool_)
    if m.ndim != 2:
        raise ValueError(f"a mask must be 2-D, got shape {m.shape}")
    h, w = m.shape
    runs: list[tuple[int, int, int]] = []  # (row, start, end)
    row_runs: list[list[int]] = []
    padded = np.zeros((h, w + 2), dtype=np.int8)
    padded[:, 1:-1] = m
    edges = np.diff(padded, axis=1)
    for r in range(h):
        starts = np.flatnonzero(edges[r] == 1)
        ends = np.flatnonzero(edges[r] == -1)
        row_runs.append(list(range(len(runs), len(runs) + len(starts))))
        runs.extend((r, int(s), int(e)) for s, e in zip(starts, ends, strict=True))
    parent = list(range(len(runs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(1, h):
        above = row_runs[r - 1]
        j = 0
        for i in row_runs[r]:
            _, s, e = runs[i]
            while j < len(above) and runs[above[j]][2] < s:  # ends before s - 1: no touch
                j += 1
            k = j
            while k < len(above) and runs[above[k]][1] <= e:  # starts by e (diagonal too)
                a, b = find(i), find(above[k])
                if a != b:
                    parent[max(a, b)] = min(a, b)
                k += 1
    labels = np.zeros((h, w), dtype=np.int64)
    found: dict[int, Component] = {}
    for i, (r, s, e) in enumerate(runs):
        root = find(i)
        if root not in found:
            found[root] = Component(len(found) + 1, 0, (r, s))
        comp = found[root]
        found[root] = Component(comp.label, comp.area + e - s, comp.first)
        labels[r, s:e] = comp.label
    return labels, list(found.values())


def trace_outline(inside: BoolArray, first: tuple[int, int]) -> list[Point]:
    """The corners of the outer boundary of the component whose first pixel is `first`."""
    h, w = inside.shape
    r0, c0 = first

    def at(r: int, c: int) -> bool:
        return 0 <= r < h and 0 <= c < w and bool(inside[r, c])

    r, c, heading = r0, c0, 3  # arriving at the top-left corner going north
    points: list[Point] = []
    for _ in range(4 * (h + 1) * (w + 1) + 4):
        (lr, lc), (fr, fc) = _AHEAD[heading]
        if at(r + lr, c + lc):
            turn = (heading - 1) % 4
        elif at(r + fr, c + fc):
            turn = heading
        else:
            turn = (heading + 1) % 4
        if turn != heading:
            points.append((float(c), float(r)))
        heading = turn
        r, c = r + _STEP[heading][0], c + _STEP[heading][1]
        if (r, c) == (r0, c0):
            return points
    raise AssertionError("boundary tracing did not close")  # pragma: no cover


def simplify(points: list[Point], tolerance: float) -> list[Point]:
    """Douglas–Peucker on a closed polygon; keeps at least a triangle when there is one."""
    if len(points) <= 3 or tolerance <= 0:
        return points
    pts = np.asarray(points, dtype=np.float64)
    far = int(np.argmax(np.sum((pts - pts[0]) ** 2, axis=1)))
    keep = np.zeros(len(pts), dtype=np.bool_)
    keep[[0, far]] = True
    closed = np.vstack([pts, pts[:1]])
    stack = [(0, far), (far, len(pts))]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        d = _distances(closed[a + 1 : b], closed[a], closed[b])
        i = int(np.argmax(d))
        if d[i] > tolerance:
            keep[a + 1 + i] = True
            stack.extend([(a, a + 1 + i), (a + 1 + i, b)])
    out = [points[i] for i in np.flatnonzero(keep)]
    if len(out) < 3:
        rest = np.flatnonzero(~keep)
        out = [points[i] for i in sorted([*np.flatnonzero(keep), int(rest[len(rest) // 2])])]
    return out


def mask_polygons(
    mask: BoolArray,
    *,
    min_area: int = 4,
    tolerance: float = 1.0,
    scale: tuple[float, float] = (1.0, 1.0),
) -> list[list[Point]]:
    """Each component of at least `min_area` pixels → its simplified outline, scaled (sx, sy)."""
    labels, found = components(mask)
    polygons: list[list[Point]] = []
    sx, sy = scale
    for comp in found:
        if comp.area < min_area:
            continue
        outline = simplify(trace_outline(labels == comp.label, comp.first), tolerance)
        polygons.append([(x * sx, y * sy) for x, y in outline])
    return polygons


def _distances(pts: Float64Array, a: Float64Array, b: Float64Array) -> Float64Array:
    ab = b - a
    length = float(np.hypot(*ab))
    if length == 0:
        out: Float64Array = np.hypot(*(pts - a).T)
        return out
    cross = np.abs(ab[0] * (pts[:, 1] - a[1]) - ab[1] * (pts[:, 0] - a[0]))
    dist: Float64Array = cross / length
    return dist
