"""The exact rasterizer of semantic masks: brush strokes and polygons, in pure numpy.

The rule (the browser client reproduces it for parity). Pixel (x, y) is mask[y, x] and its
centre is c = (x + 0.5, y + 0.5); all arithmetic is IEEE-754 double, in the order written.
Brush: for each segment a→b of the stroke (a single point is the segment a→a), with
w = c - a, v = c - b, d = b - a, L = d·d, t = w·d and k = d.x·w.y - d.y·w.x, c is painted iff
w·w <= r², or v·v <= r², or (L > 0 and 0 <= t <= L and k·k <= r²·L), where r² = r·r and
p·q = p.x·q.x + p.y·q.y. Polygon (even-odd): the edges are point i → point i+1 and last → first;
an edge with lower end (xl, yl) and upper end (xh, yh) crosses the row of centre cy iff
yl <= cy < yh, at x = xl + ((cy - yl)·(xh - xl))/(yh - yl); c is inside iff an odd number of
its row's crossings lie at x <= c.x, i.e. x_a <= c.x < x_b for a pair of sorted crossings.
Points outside the mask are fine: whatever falls outside is clipped.
"""

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Mask = npt.NDArray[np.uint16]
Floats = npt.NDArray[np.float64]

# Mean run length (pixels) beyond which a polygon's runs are filled one slice at a time.
LONG_RUN = 48


def new_mask(width: int, height: int) -> Mask:
    return np.zeros((height, width), dtype=np.uint16)


def _capsule(
    cx: Floats,
    cy: Floats,
    a: tuple[float, float],
    b: tuple[float, float],
    r2: float,
    far_end: bool,
) -> npt.NDArray[np.bool_]:
    # Division-free, so that the test is a handful of correctly rounded products and sums
    # that the client can repeat bit for bit.
    (ax, ay), (bx, by) = a, b
    wx, wy = cx - ax, cy - ay
    hit: npt.NDArray[np.bool_] = wx * wx + wy * wy <= r2
    if far_end:
        vx, vy = cx - bx, cy - by
        hit |= vx * vx + vy * vy <= r2
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    if length2 > 0:
        t = wx * dx + wy * dy
        k = dx * wy - dy * wx
        hit |= (t >= 0) & (t <= length2) & (k * k <= r2 * length2)
    return hit


def paint_stroke(
    mask: Mask, points: Sequence[tuple[float, float]], radius: float, value: int
) -> None:
    """Sets to `value` every pixel whose centre lies within `radius` of the stroke's polyline."""
    height, width = mask.shape
    r2 = radius * radius
    pts = [(float(x), float(y)) for x, y in points]
    last = max(len(pts) - 2, 0)
    for index, (a, b) in enumerate(zip(pts, pts[1:] or pts, strict=False)):
        # The box is one pixel wider than the capsule on every side, so that no rounding in
        # its bounds can cut off a pixel that the test itself would admit.
        x0 = max(0, math.floor(min(a[0], b[0]) - radius) - 1)
        x1 = min(width, math.ceil(max(a[0], b[0]) + radius) + 1)
        y0 = max(0, math.floor(min(a[1], b[1]) - radius) - 1)
        y1 = min(height, math.ceil(max(a[1], b[1]) + radius) + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        cx = np.arange(x0, x1, dtype=np.float64) + 0.5
        cy = np.arange(y0, y1, dtype=np.float64)[:, None] + 0.5
        # A segment's far end is the next one's near end, tested there with the very same
        # arithmetic (and inside its box), so only the last segment tests its own.
        hit = _capsule(cx, cy, a, b, r2, far_end=index == last)
        mask[y0:y1, x0:x1][hit] = value


def fill_polygon(mask: Mask, points: Sequence[tuple[float, float]], value: int) -> None:
    """Sets to `value` every pixel whose centre lies inside the polygon (even-odd rule)."""
    height, width = mask.shape
    if len(points) < 3 or height == 0 or width == 0:
        return
    xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    nxt = np.concatenate((xy[1:], xy[:1]))
    # Each edge is taken from its lower end, so an edge walked both ways (a bridge into a
    # hole) yields the same crossing twice and the pair cancels exactly.
    up = xy[:, 1] <= nxt[:, 1]
    lo = np.where(up[:, None], xy, nxt)
    hi = np.where(up[:, None], nxt, xy)
    # searchsorted against the centres is the exact `lo <= cy < hi` test, already clipped.
    row_centres = np.arange(height, dtype=np.float64) + 0.5
    first = np.searchsorted(row_centres, lo[:, 1], side="left")
    stop = np.searchsorted(row_centres, hi[:, 1], side="left")
    counts = stop - first
    total = int(counts.sum())
    if total == 0:
        return
    edge = np.repeat(np.arange(len(xy)), counts)
    rows = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + first[edge]
    xl, yl = lo[edge, 0], lo[edge, 1]
    xh, yh = hi[edge, 0], hi[edge, 1]
    xs = xl + ((rows + 0.5) - yl) * (xh - xl) / (yh - yl)
    # Each row has an even number of crossings, so consecutive pairs never straddle rows; a
    # pair [start, stop) of sorted crossings, as columns, is a run of inside pixels.
    order = np.lexsort((xs, rows))
    col_centres = np.arange(width, dtype=np.float64) + 0.5
    cols = np.searchsorted(col_centres, xs[order], side="left")
    runs = rows[order][0::2]
    starts, stops = cols[0::2], cols[1::2]
    lengths = stops - starts
    painted = int(lengths.sum())
    if painted > LONG_RUN * len(runs):
        # Long runs: a slice each is a memset, cheaper than listing their pixels.
        for row, start, stop in zip(runs.tolist(), starts.tolist(), stops.tolist(), strict=True):
            mask[row, start:stop] = value
    elif painted:
        # Short runs: every pixel's (row, column) at once, so Python does not loop per run.
        offsets = np.cumsum(lengths) - lengths
        columns = np.arange(painted) - np.repeat(offsets - starts, lengths)
        mask[np.repeat(runs, lengths), columns] = value
