"""Work made through the HTTP API before the screenshots, so that the screens show real content:
tags, boxes, polygons, brush strokes, spans and submits on the demo's projects."""

import math
import random
import time
from typing import Any

import httpx

INSTRUCTIONS = """# Draw a box around each shape

Every **circle**, **square** and **triangle** in the scene gets its own box.

1. Pick the tag (click it, or press its number key).
2. Press **R** and drag from one corner to the other.
3. Adjust with **M**: drag the inside to move, an edge or a corner to resize.

Tips:

- **T** places a box the size of the last one you drew: one click per shape.
- Lock finished boxes with **L** so that a slip of the mouse cannot move them.
- Boxes should touch the shape's outermost pixels; partly hidden shapes still count.

> Unsure? Skip the image: it goes to someone else and never back to you.

See the [labeling guide](https://example.org/labeling-guide) for examples.
"""


class Api:
    """One demo user's HTTP session (signed in with the demo password), to make the work."""

    def __init__(self, base: str, user: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=60)
        answer = self.client.post(
            "/api/session", json={"username": user, "password": f"{user}-demo-password"}
        )
        answer.raise_for_status()
        self.headers = {"x-csrf-token": answer.json()["csrf_token"]}

    def get(self, path: str) -> Any:
        answer = self.client.get(path)
        answer.raise_for_status()
        return answer.json()

    def send(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.client.request(method, path, json=body, headers=self.headers)
        answer.raise_for_status()
        return answer.json()

    def events(self, project: str, item: str, events: list[dict[str, Any]]) -> None:
        batch = [
            {"event_id": f"shot-{project}-{item}-{i}-{time.time_ns()}", "event": e}
            for i, e in enumerate(events)
        ]
        self.send("POST", f"/api/projects/{project}/items/{item}/events", {"events": batch})

    def sign_out(self) -> None:
        self.send("DELETE", "/api/session")
        self.client.close()


def scenes(count: int, seed: int = 3) -> list[list[tuple[str, int, int, int]]]:
    """The shapes of the demo's scenes (server/demo/data.py draws them from this sequence)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        shapes = []
        for _ in range(rng.randint(1, 3)):
            shape = rng.choice(("circle", "square", "triangle"))
            rng.choice([0, 1, 2])
            x, y, size = rng.randint(10, 230), rng.randint(10, 150), rng.randint(30, 80)
            shapes.append((shape, x, y, size))
        out.append(shapes)
    return out


def outline(shape: str, x: int, y: int, size: int) -> list[list[float]]:
    if shape == "square":
        return [[x, y], [x + size, y], [x + size, y + size], [x, y + size]]
    if shape == "triangle":
        return [[x + size / 2, y], [x + size, y + size], [x, y + size]]
    c, r = (x + size / 2, y + size / 2), size / 2
    return [
        [round(c[0] + r * math.cos(a), 2), round(c[1] + r * math.sin(a), 2)]
        for a in (2 * math.pi * k / 16 for k in range(16))
    ]


def page_with_most_shapes(api: Api, project: str, shapes: list[Any]) -> tuple[str, int]:
    """Takes pages (skipping scenes with one shape) until one with several shapes comes."""
    while True:
        item = api.send("POST", f"/api/projects/{project}/page", {})["items"][0]
        info = api.get(f"/api/projects/{project}/items/{item}/state")["item"]
        index = int(info["name"].split("-")[1].split(".")[0])
        if len(shapes[index]) >= 3:
            return item, index
        api.send("POST", f"/api/projects/{project}/skip", {"item": item})


def prepare(base: str) -> dict[str, str]:
    """Makes work through the API; returns item ids the screenshots open."""
    from server.demo.data import ORGS, PEOPLE, PLACES

    admin, ann = Api(base, "admin"), Api(base, "ann")
    admin.send("PUT", "/api/projects/boxes/instructions", {"instructions": INSTRUCTIONS})
    shapes = scenes(30)
    chosen: dict[str, str] = {}

    # Progress on the list: bob submits a page of digits and of news.
    bob = Api(base, "bob")
    for project, tag_of in (
        ("digits", lambda name: name.split("-label-")[1][0]),
        ("news", lambda name: "weather"),
    ):
        for item in bob.send("POST", f"/api/projects/{project}/page", {})["items"]:
            name = bob.get(f"/api/projects/{project}/items/{item}/state")["item"]["name"]
            tag = tag_of(name)
            bob.events(project, item, [{"type": "annotation.tag_applied", "tag": tag}])
        bob.send("POST", f"/api/projects/{project}/submit", {})
    bob.sign_out()

    for item in ann.send("POST", "/api/projects/digits/page", {})["items"][:5]:
        name = ann.get(f"/api/projects/digits/items/{item}/state")["item"]["name"]
        tag = name.split("-label-")[1][0]
        ann.events("digits", item, [{"type": "annotation.tag_applied", "tag": tag}])
    for i, item in enumerate(ann.send("POST", "/api/projects/shapes/page", {})["items"][:4]):
        tags = [["circle"], ["square", "triangle"], ["triangle"], ["circle", "square"]][i]
        ann.events("shapes", item, [{"type": "annotation.tag_applied", "tag": t} for t in tags])

    item, index = page_with_most_shapes(ann, "boxes", shapes)
    boxes = []
    for n, (shape, x, y, size) in enumerate(shapes[index]):
        box = {"x": x, "y": y, "w": size + 1, "h": size + 1}
        boxes.append({"type": "annotation.box_drawn", "region_id": f"b{n}", "tag": shape, **box})
    boxes.append({"type": "annotation.region_lock_toggled", "region_id": "b0", "locked": True})
    ann.events("boxes", item, boxes)
    chosen["boxes"] = item

    item, index = page_with_most_shapes(ann, "outlines", shapes)
    ann.events(
        "outlines",
        item,
        [
            {
                "type": "annotation.polygon_drawn",
                "region_id": f"p{n}",
                "tag": shape,
                "points": outline(shape, x, y, size),
            }
            for n, (shape, x, y, size) in enumerate(shapes[index])
        ],
    )

    item, index = page_with_most_shapes(ann, "masks", shapes)
    strokes: list[dict[str, Any]] = []
    for n, (shape, x, y, size) in enumerate(shapes[index]):
        if n == 0:
            strokes.append(
                {
                    "type": "annotation.polygon_drawn",
                    "region_id": "m0",
                    "tag": shape,
                    "points": outline(shape, x, y, size),
                }
            )
            continue
        radius = 4.0
        for k in range(1, int(size / (1.6 * radius))):
            yy = y + k * 1.6 * radius
            if shape == "triangle":
                half = (yy - y) / size * size / 2
                a, b = x + size / 2 - half + radius, x + size / 2 + half - radius
            elif shape == "circle":
                dy = yy - (y + size / 2)
                half = math.sqrt(max(0.0, (size / 2) ** 2 - dy * dy))
                a, b = x + size / 2 - half + radius, x + size / 2 + half - radius
            else:
                a, b = x + radius, x + size - radius
            if b > a:
                strokes.append(
                    {
                        "type": "annotation.brush_painted",
                        "stroke_id": f"s{n}-{k}",
                        "tag": shape,
                        "radius": radius,
                        "points": [[round(a, 2), round(yy, 2)], [round(b, 2), round(yy, 2)]],
                    }
                )
    ann.events("masks", item, strokes)
    chosen["masks"] = item

    item = ann.send("POST", "/api/projects/people/page", {})["items"][0]
    text = ann.get(f"/api/projects/people/items/{item}/state")["item"]["text"]
    spans = []
    for tag, names in (("PERSON", PEOPLE), ("PLACE", PLACES), ("ORG", ORGS)):
        for name in names:
            at = text.find(name)
            if at >= 0:
                spans.append(
                    {
                        "type": "annotation.span_tagged",
                        "span_id": f"{tag}{at}",
                        "tag": tag,
                        "start": at,
                        "end": at + len(name),
                    }
                )
    ann.events("people", item, spans)

    item = ann.send("POST", "/api/projects/scans/page", {})["items"][0]
    ann.events(
        "scans",
        item,
        [
            {
                "type": "annotation.box_drawn",
                "region_id": "l1",
                "tag": "organ",
                "x": 38,
                "y": 6,
                "w": 42,
                "h": 40,
            }
        ],
    )
    ann.events(
        "news",
        ann.send("POST", "/api/projects/news/page", {})["items"][0],
        [{"type": "annotation.tag_applied", "tag": "sports"}],
    )
    ann.sign_out()  # the browser's session takes the same pages, with ann's drafts
    admin.client.close()
    return chosen
