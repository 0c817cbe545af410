"""The mask rasterizer against hand-drawn grids and against brute-force references.

Grids are string art, row 0 on top: "." is background, "#" is 1, a digit is that value.
"""

from collections.abc import Sequence
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from events.projections.masks import Mask, fill_polygon, new_mask, paint_stroke

Point = tuple[float, float]
Pts = Sequence[Point]


def art(mask: Mask) -> list[str]:
    return ["".join("." if v == 0 else "#" if v == 1 else str(v) for v in row) for row in mask]


def grid(text: str) -> list[str]:
    return text.split()


def painted(points: Pts, radius: float, size: int = 8) -> list[str]:
    mask = new_mask(size, size)
    paint_stroke(mask, points, radius, 1)
    return art(mask)


def filled(points: Pts, size: int = 8) -> list[str]:
    mask = new_mask(size, size)
    fill_polygon(mask, points, 1)
    return art(mask)


def test_new_mask_is_uint16_zeros_rows_by_columns() -> None:
    mask = new_mask(5, 3)
    assert mask.shape == (3, 5)
    assert mask.dtype == np.uint16
    assert not mask.any()


def test_a_single_point_is_a_disc_whose_rim_counts() -> None:
    # (2.5, 4.5) and (5.5, 4.5) are exactly 1.5 away from (4, 4.5): on the rim, so painted.
    assert painted([(4.0, 4.5)], 1.5) == grid("""
        ........
        ........
        ........
        ...##...
        ..####..
        ...##...
        ........
        ........
    """)


def test_horizontal_stroke_is_a_capsule_rims_included() -> None:
    # (0.5, 2.5) and (6.5, 2.5) lie exactly on the end caps, (1.5, 1.5) on the flank.
    assert painted([(1.5, 2.5), (5.5, 2.5)], 1.0) == grid("""
        ........
        .#####..
        #######.
        .#####..
        ........
        ........
        ........
        ........
    """)


def test_diagonal_stroke() -> None:
    assert painted([(1.0, 1.0), (7.0, 7.0)], 1.0) == grid("""
        ##......
        ###.....
        .###....
        ..###...
        ...###..
        ....###.
        .....###
        ......##
    """)


def test_stroke_leaving_the_mask_is_clipped() -> None:
    assert painted([(12.0, 1.5), (4.5, 1.5), (4.5, 12.0)], 1.0) == grid("""
        ....####
        ...#####
        ...#####
        ...###..
        ...###..
        ...###..
        ...###..
        ...###..
    """)


def test_erasing_is_painting_zero() -> None:
    mask = new_mask(8, 8)
    fill_polygon(mask, [(1, 1), (7, 1), (7, 7), (1, 7)], 3)
    paint_stroke(mask, [(4.0, 0.0), (4.0, 8.0)], 1.0, 0)
    assert art(mask) == grid("""
        ........
        .33..33.
        .33..33.
        .33..33.
        .33..33.
        .33..33.
        .33..33.
        ........
    """)


def test_triangle_excludes_centres_on_its_right_edge() -> None:
    assert filled([(1, 1), (7, 1), (1, 7)]) == grid("""
        ........
        .#####..
        .####...
        .###....
        .##.....
        .#......
        ........
        ........
    """)


def test_concave_u() -> None:
    assert filled([(1, 1), (3, 1), (3, 5), (5, 5), (5, 1), (7, 1), (7, 7), (1, 7)]) == grid("""
        ........
        .##..##.
        .##..##.
        .##..##.
        .##..##.
        .######.
        .######.
        ........
    """)


def test_bowtie() -> None:
    # Left-closed, right-open spans: a centre on a crossing belongs to the span it starts.
    assert filled([(0, 0), (8, 8), (8, 0), (0, 8)]) == grid("""
        .......#
        #.....##
        ##...###
        ###.####
        ###.####
        ##...###
        #.....##
        .......#
    """)


def test_square_wound_twice_has_an_even_odd_hole() -> None:
    outer = [(1, 1), (7, 1), (7, 7), (1, 7), (1, 1)]
    inner = [(3, 3), (5, 3), (5, 5), (3, 5), (3, 3)]
    assert filled(outer + inner) == grid("""
        ........
        .######.
        .######.
        .##..##.
        .##..##.
        .######.
        .######.
        ........
    """)


def test_polygon_partly_outside_is_clipped() -> None:
    assert filled([(0, 0), (10, 0), (0, 10)]) == grid("""
        ########
        ########
        #######.
        ######..
        #####...
        ####....
        ###.....
        ##......
    """)


def test_vertices_on_centre_rows_count_once() -> None:
    assert filled([(4, 1.5), (7, 4.5), (4, 7.5), (1, 4.5)]) == grid("""
        ........
        ........
        ...##...
        ..####..
        .######.
        ..####..
        ...##...
        ........
    """)


def test_nothing_to_draw_is_not_an_error() -> None:
    mask = new_mask(4, 4)
    paint_stroke(mask, [], 2.0, 1)
    paint_stroke(mask, [(50.0, 50.0), (90.0, 60.0)], 2.0, 1)
    fill_polygon(mask, [(1, 1), (3, 3)], 1)
    fill_polygon(mask, [(10, 10), (20, 10), (20, 20)], 1)
    assert not mask.any()


# Brute force. On a 1/8 grid every product the rasterizer forms is exact in a double, so it
# must agree with exact rational arithmetic, boundary ties included (and ties are common).

EIGHTHS = st.integers(0, 8 * 12).map(lambda k: k / 8)
SIZES = st.integers(1, 9)
settings.register_profile("masks", max_examples=60, deadline=None, database=None)
FAST = settings.get_profile("masks")


def segment_distance2(p: tuple[Fraction, Fraction], a: Point, b: Point) -> Fraction:
    (px, py), (ax, ay), (bx, by) = p, map(Fraction, a), map(Fraction, b)
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = Fraction(0) if length2 == 0 else ((px - ax) * dx + (py - ay) * dy) / length2
    t = min(max(t, Fraction(0)), Fraction(1))
    nx, ny = ax + t * dx - px, ay + t * dy - py
    return nx * nx + ny * ny


def reference_stroke(w: int, h: int, points: Pts, radius: float) -> list[str]:
    segments = list(zip(points, points[1:] or points, strict=False))
    r2 = Fraction(radius) ** 2
    return [
        "".join(
            "#"
            if any(
                segment_distance2((Fraction(2 * x + 1, 2), Fraction(2 * y + 1, 2)), a, b) <= r2
                for a, b in segments
            )
            else "."
            for x in range(w)
        )
        for y in range(h)
    ]


def reference_polygon(w: int, h: int, points: Pts) -> list[str]:
    ends = [
        (*map(Fraction, a), *map(Fraction, b))
        for a, b in zip(points, [*points[1:], points[0]], strict=True)
    ]

    def inside(cx: Fraction, cy: Fraction) -> bool:
        crossings = [
            x0 + (cy - y0) * (x1 - x0) / (y1 - y0)
            for x0, y0, x1, y1 in ends
            if (y0 <= cy < y1) or (y1 <= cy < y0)
        ]
        return sum(x <= cx for x in crossings) % 2 == 1

    return [
        "".join(
            "#" if inside(Fraction(2 * x + 1, 2), Fraction(2 * y + 1, 2)) else "." for x in range(w)
        )
        for y in range(h)
    ]


@FAST
@given(
    w=SIZES,
    h=SIZES,
    points=st.lists(st.tuples(EIGHTHS, EIGHTHS), min_size=1, max_size=5),
    radius=st.integers(0, 40).map(lambda k: k / 8),
)
def test_stroke_agrees_with_exact_brute_force(w: int, h: int, points: Pts, radius: float) -> None:
    mask = new_mask(w, h)
    paint_stroke(mask, points, radius, 1)
    assert art(mask) == reference_stroke(w, h, points, radius)


@FAST
@given(w=SIZES, h=SIZES, points=st.lists(st.tuples(EIGHTHS, EIGHTHS), min_size=3, max_size=8))
def test_polygon_agrees_with_exact_brute_force(w: int, h: int, points: Pts) -> None:
    mask = new_mask(w, h)
    fill_polygon(mask, points, 1)
    assert art(mask) == reference_polygon(w, h, points)


# Parity: the module docstring's rule, written out per pixel in Python floats exactly as the
# browser client writes it, on arbitrary doubles, must give the very same pixels.

COORDS = st.floats(0, 12, allow_nan=False, allow_infinity=False)


def docstring_stroke(w: int, h: int, points: Pts, radius: float) -> list[str]:
    r2 = radius * radius

    def near(cx: float, cy: float, a: Point, b: Point) -> bool:
        wx, wy = cx - a[0], cy - a[1]
        vx, vy = cx - b[0], cy - b[1]
        dx, dy = b[0] - a[0], b[1] - a[1]
        length2, t, k = dx * dx + dy * dy, wx * dx + wy * dy, dx * wy - dy * wx
        capsule = length2 > 0 and 0 <= t <= length2 and k * k <= r2 * length2
        return wx * wx + wy * wy <= r2 or vx * vx + vy * vy <= r2 or capsule

    segments = list(zip(points, points[1:] or points, strict=False))
    return [
        "".join(
            "#" if any(near(x + 0.5, y + 0.5, a, b) for a, b in segments) else "." for x in range(w)
        )
        for y in range(h)
    ]


def docstring_polygon(w: int, h: int, points: Pts) -> list[str]:
    edges = [
        sorted((a, b), key=lambda p: p[1])
        for a, b in zip(points, [*points[1:], points[0]], strict=True)
    ]
    rows = []
    for y in range(h):
        cy = y + 0.5
        xs = [
            xl + ((cy - yl) * (xh - xl)) / (yh - yl)
            for (xl, yl), (xh, yh) in edges
            if yl <= cy < yh
        ]
        rows.append("".join("#" if sum(xc <= x + 0.5 for xc in xs) % 2 else "." for x in range(w)))
    return rows


@FAST
@given(
    w=SIZES,
    h=SIZES,
    points=st.lists(st.tuples(COORDS, COORDS), min_size=1, max_size=5),
    radius=st.floats(0, 5),
)
def test_stroke_is_the_documented_rule_bit_for_bit(
    w: int, h: int, points: Pts, radius: float
) -> None:
    mask = new_mask(w, h)
    paint_stroke(mask, points, radius, 1)
    assert art(mask) == docstring_stroke(w, h, points, radius)


@FAST
@given(w=SIZES, h=SIZES, points=st.lists(st.tuples(COORDS, COORDS), min_size=3, max_size=8))
def test_polygon_is_the_documented_rule_bit_for_bit(w: int, h: int, points: Pts) -> None:
    mask = new_mask(w, h)
    fill_polygon(mask, points, 1)
    assert art(mask) == docstring_polygon(w, h, points)
