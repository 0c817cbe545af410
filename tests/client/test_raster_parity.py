"""The browser's mask rasterizer (client/js/raster.js) against the server's, on the same strokes.

The client paints brush strokes and polygons live while the labeler works; the server
rasterizes the same events for the submitted mask. They must agree pixel for pixel, including
awkward cases: points on pixel centres and edges, radii that land exactly on a centre,
fractional coordinates, single-point strokes, self-intersecting and off-image polygons.
"""

import base64
import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from events.projections.masks import fill_polygon, new_mask, paint_stroke

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(__file__).with_name("raster_cli.mjs")
NODE = shutil.which("node")

if NODE is None:  # failing, not skipping: a skip would hide a missing install step
    raise RuntimeError("node is not installed: run scripts/install-test-deps")


def server_mask(case: dict[str, Any]) -> np.ndarray:
    mask = new_mask(case["width"], case["height"])
    for op in case["ops"]:
        points = [tuple(p) for p in op["points"]]
        if op["kind"] == "stroke":
            paint_stroke(mask, points, op["radius"], op["value"])
        else:
            fill_polygon(mask, points, op["value"])
    return mask


def client_masks(cases: list[dict[str, Any]]) -> list[np.ndarray]:
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(CLI)],
        input=json.dumps(cases).encode(),
        capture_output=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    encoded = json.loads(done.stdout)
    return [
        np.frombuffer(base64.b64decode(e), dtype="<u2").reshape(c["height"], c["width"])
        for e, c in zip(encoded, cases, strict=True)
    ]


def coordinate(rng: random.Random, limit: int) -> float:
    """Whole, half and quarter pixels, 1/64ths (what the client sends) and arbitrary floats."""
    match rng.randrange(5):
        case 0:
            return float(rng.randrange(0, limit + 1))
        case 1:
            return rng.randrange(0, 2 * limit + 1) / 2
        case 2:
            return rng.randrange(0, 4 * limit + 1) / 4
        case 3:
            return rng.randrange(0, 64 * limit + 1) / 64
        case _:
            return rng.uniform(-0.3 * limit, 1.3 * limit)


def random_case(rng: random.Random) -> dict[str, Any]:
    width, height = rng.randrange(1, 48), rng.randrange(1, 48)
    ops: list[dict[str, Any]] = []
    for _ in range(rng.randrange(1, 6)):
        size = max(width, height)
        if rng.random() < 0.55:
            n = rng.choice([1, 1, 2, 3, 8])
            radius = rng.choice([0.5, 1.0, 1.5, 2.0, 0.7071067811865476, rng.uniform(0.1, 9)])
            points = [[coordinate(rng, size), coordinate(rng, size)] for _ in range(n)]
            ops.append(
                {"kind": "stroke", "points": points, "radius": radius, "value": rng.randrange(4)}
            )
        else:
            n = rng.randrange(3, 9)
            points = [[coordinate(rng, size), coordinate(rng, size)] for _ in range(n)]
            ops.append({"kind": "polygon", "points": points, "value": rng.randrange(1, 4)})
    return {"width": width, "height": height, "ops": ops}


EDGE_CASES: list[dict[str, Any]] = [
    # A radius that reaches exactly to neighbouring centres.
    {
        "width": 9,
        "height": 9,
        "ops": [{"kind": "stroke", "points": [[4.5, 4.5]], "radius": 1.0, "value": 1}],
    },
    {
        "width": 9,
        "height": 9,
        "ops": [{"kind": "stroke", "points": [[4.5, 4.5], [4.5, 4.5]], "radius": 2.0, "value": 2}],
    },
    # A diagonal stroke whose capsule side passes through centres.
    {
        "width": 16,
        "height": 16,
        "ops": [
            {
                "kind": "stroke",
                "points": [[0.5, 0.5], [15.5, 15.5]],
                "radius": 0.7071067811865476,
                "value": 1,
            }
        ],
    },
    # Polygon edges through centres, a horizontal edge on a centre row, a bow tie.
    {
        "width": 12,
        "height": 12,
        "ops": [
            {
                "kind": "polygon",
                "points": [[0.5, 0.5], [10.5, 0.5], [10.5, 10.5], [0.5, 10.5]],
                "value": 1,
            }
        ],
    },
    {
        "width": 12,
        "height": 12,
        "ops": [{"kind": "polygon", "points": [[1, 1], [11, 11], [11, 1], [1, 11]], "value": 3}],
    },
    # A polygon larger than the mask and one wholly outside it.
    {
        "width": 7,
        "height": 5,
        "ops": [{"kind": "polygon", "points": [[-10, -10], [50, -3], [20, 40]], "value": 2}],
    },
    {
        "width": 7,
        "height": 5,
        "ops": [{"kind": "polygon", "points": [[30, 30], [40, 30], [35, 40]], "value": 2}],
    },
    # Erase inside paint, then a polygon on top.
    {
        "width": 20,
        "height": 14,
        "ops": [
            {"kind": "stroke", "points": [[2, 7], [18, 7]], "radius": 5, "value": 1},
            {"kind": "stroke", "points": [[10, 2], [10, 12]], "radius": 1.5, "value": 0},
            {"kind": "polygon", "points": [[3, 3], [8.25, 3.75], [5.5, 11.015625]], "value": 2},
        ],
    },
]


def test_edge_cases_match_the_server() -> None:
    for case, mask in zip(EDGE_CASES, client_masks(EDGE_CASES), strict=True):
        np.testing.assert_array_equal(mask, server_mask(case), err_msg=json.dumps(case))


def test_random_strokes_and_polygons_match_the_server() -> None:
    rng = random.Random(20240607)
    cases = [random_case(rng) for _ in range(400)]
    for case, mask in zip(cases, client_masks(cases), strict=True):
        np.testing.assert_array_equal(mask, server_mask(case), err_msg=json.dumps(case))
