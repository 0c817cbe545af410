"""Masks → polygons along pixel edges, one per 8-connected component."""

import numpy as np

from models.polygons import components, mask_polygons, simplify


def test_a_rectangle_is_its_four_corners() -> None:
    mask = np.zeros((6, 7), bool)
    mask[1:4, 2:5] = True
    assert mask_polygons(mask, min_area=1) == [[(2.0, 1.0), (5.0, 1.0), (5.0, 4.0), (2.0, 4.0)]]


def test_diagonal_pixels_are_one_component_and_specks_are_dropped() -> None:
    mask = np.zeros((5, 5), bool)
    mask[1, 1] = mask[2, 2] = mask[3, 3] = True
    mask[0, 4] = True
    labels, found = components(mask)
    assert [c.area for c in found] == [1, 3]
    assert labels[1, 1] == labels[3, 3] != labels[0, 4]
    assert len(mask_polygons(mask, min_area=2, tolerance=0)) == 1


def test_a_ring_is_its_outer_boundary() -> None:
    mask = np.zeros((6, 6), bool)
    mask[1:5, 1:5] = True
    mask[2:4, 2:4] = False
    assert mask_polygons(mask, min_area=1) == [[(1.0, 1.0), (5.0, 1.0), (5.0, 5.0), (1.0, 5.0)]]


def test_a_disc_is_simplified_and_scaled() -> None:
    yy, xx = np.mgrid[:100, :100]
    disc = (yy - 50) ** 2 + (xx - 40) ** 2 < 30**2
    (polygon,) = mask_polygons(disc, scale=(2.0, 0.5))
    assert 8 <= len(polygon) <= 40
    xs, ys = zip(*polygon, strict=True)
    # Columns 11..69 (corners 11..70) scaled by 2; rows 21..79 (corners 21..80) by 0.5.
    assert (min(xs), max(xs)) == (22.0, 140.0)
    assert (min(ys), max(ys)) == (10.5, 40.0)


def test_unsimplified_outline_has_the_component_area() -> None:
    rng = np.random.default_rng(0)
    mask = rng.random((30, 30)) < 0.7
    labels, found = components(mask)
    for comp in found:
        (polygon,) = mask_polygons(labels == comp.label, min_area=1, tolerance=0)
        x, y = np.array(polygon).T
        area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
        holes = _holes(labels == comp.label)
        assert area == comp.area + holes


def _holes(inside: np.ndarray) -> int:
    """Pixels outside the component that its outer boundary encloses (not reachable from out)."""
    outside = ~np.pad(inside, 1)
    reached = np.zeros_like(outside)
    reached[0, 0] = True
    while True:
        grown = reached.copy()
        grown[1:] |= reached[:-1]
        grown[:-1] |= reached[1:]
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown &= outside
        if np.array_equal(grown, reached):
            return int(outside.sum() - reached.sum())
        reached = grown


def test_simplify_keeps_a_triangle() -> None:
    square = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
    assert len(simplify(square, 5.0)) == 3
    assert simplify(square, 0.0) == square
