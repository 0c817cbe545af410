"""The bad input the fuzz of test_bad_input.py fires: one `Command` per request, drawn by
hypothesis (random JSON, wrong types, unknown event types, huge bodies, bad paths, events for
items not on the caller's page, malformed multipart, archives with `..` names, a text file
named .dcm, truncated PNGs), each with what its answer must be.
"""

import io
import json
import tarfile
import zipfile
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import strategies as st
from PIL import Image
from starlette.routing import Route

from server.app import create_app
from server.settings import Settings

MAX_BODY = 64 * 1024
MAX_UPLOAD = 256 * 1024


@dataclass
class Command:
    """One request to fire, and what the answer must be beyond "a 4xx with a JSON error"."""

    kind: str
    method: str
    path: str
    who: str = "admin"
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    status: set[int] | None = None  # the statuses allowed (None: any below 500)
    code: str | None = None  # the error code it must carry
    chunked: bool = False
    huge: int = 0  # a body of about this many bytes, made when fired

    def __repr__(self) -> str:
        shown = self.content if self.content is None or len(self.content) < 300 else b"<big>"
        return f"Command({self.kind} {self.who} {self.method} {self.path} {shown!r})"


# Routes to fuzz: all but the two that hash a password per call (sign-in, user creation),
# which would spend the time budget on argon2; the auth tests cover those.
SLOW = {("POST", "/api/session"), ("POST", "/api/users")}
ROUTES = sorted(
    (method, route.path)
    for route in create_app(Settings(database=":memory:")).routes
    if isinstance(route, Route)
    for method in (route.methods or set()) - {"HEAD"}
    if (method, route.path) not in SLOW
)
SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="#?"),
    max_size=30,
)
PATH_VALUES = {
    # Half of the calls go to the real project, so that they reach the checks past the route.
    "project": st.one_of(
        st.just("fuzz"),
        st.just("fuzz"),
        st.sampled_from(["nope", "FUZZ", "a" * 300, "..", "%2e%2e", ""]),
        SAFE_TEXT,
    ),
    "item": st.sampled_from(["t000", "t001", "t005", "zzz", "..", "t000/../t001"]) | SAFE_TEXT,
    # Not ann or audrey: the admin's random calls must not take them out of the project.
    "user": st.sampled_from(["bob", "nobody", ".."]) | SAFE_TEXT,
    "token": st.sampled_from(["0123456789abcdef", ".."]) | SAFE_TEXT,
}
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
WHO = st.sampled_from(["admin", "ann", "audrey", "anonymous", "garbage"])
TAG = {"type": "annotation.tag_applied", "tag": "a"}
VALID_BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/projects"): {
        "project_id": "other",
        "name": "x",
        "project_type": "ner",
        "tags": [{"name": "a", "colour": "#000000"}],
    },
    ("PUT", "/api/projects/{project}/tags"): {"tags": [{"name": "a", "colour": "#ff0000"}]},
    ("PUT", "/api/projects/{project}/instructions"): {"instructions": "label well"},
    ("PUT", "/api/projects/{project}/patient-identifiers"): {"shown": True},
    ("POST", "/api/projects/{project}/members"): {"user": "bob", "role": "labeler"},
    ("POST", "/api/projects/{project}/page"): {"page_size": 2},
    ("POST", "/api/projects/{project}/items/{item}/events"): {
        "events": [{"event_id": "e1", "event": TAG}],
        "expected_version": 0,
    },
    ("POST", "/api/projects/{project}/submit"): {"items": ["t000"]},
    ("POST", "/api/projects/{project}/skip"): {"item": "t000"},
    ("POST", "/api/projects/{project}/layout"): {"page_size": 1},
    ("POST", "/api/tokens"): {"label": "x"},
}


def encode(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


@st.composite
def mutated(draw: st.DrawFn, body: Any) -> Any:
    """`body` with one value somewhere replaced, removed, or a field added."""
    if isinstance(body, dict) and body:
        key = draw(st.sampled_from(sorted(body)))
        action = draw(st.sampled_from(["replace", "remove", "add", "deeper"]))
        copy = dict(body)
        if action == "remove":
            del copy[key]
        elif action == "add":
            copy[draw(st.text(max_size=8))] = draw(JSON)
        elif action == "deeper":
            copy[key] = draw(mutated(copy[key]))
        else:
            copy[key] = draw(JSON)
        return copy
    if isinstance(body, list) and body:
        index = draw(st.integers(0, len(body) - 1))
        copy_list = list(body)
        copy_list[index] = draw(mutated(body[index]) | JSON)
        return copy_list
    return draw(JSON)


@st.composite
def random_route(draw: st.DrawFn) -> Command:
    method, template = draw(st.sampled_from(ROUTES))
    if draw(st.integers(0, 9)) == 0:
        method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
    path = template
    for name, values in PATH_VALUES.items():
        if "{" + name + "}" in path:
            path = path.replace("{" + name + "}", quote(draw(values), safe="./%~"))
    valid = VALID_BODIES.get((method, template))
    choice = draw(st.integers(0, 3))
    if choice == 0 and valid is not None:
        content: bytes | None = encode(draw(mutated(valid)))
    elif choice == 1:
        content = encode(draw(JSON))
    elif choice == 2:
        content = draw(st.binary(max_size=64))
    else:
        content = None
    params = draw(
        st.dictionaries(
            st.sampled_from(["as_of", "at", "after", "limit", "offset", "project", "view"]),
            SAFE_TEXT,
            max_size=2,
        )
    )
    headers = {"content-type": draw(st.sampled_from(["application/json", "text/plain"]))}
    return Command("route", method, path, draw(WHO), content, headers, params)


@st.composite
def bad_events(draw: st.DrawFn) -> Command:
    """Gestures that must be refused: not on ann's page, unknown types, wrong field types."""
    item = draw(st.sampled_from(["t000", "t001", "t002", "t007"]))
    kind = draw(st.sampled_from(["off_page", "unknown_type", "wrong_types"]))
    event: Any
    if kind == "off_page":
        item = draw(st.sampled_from(["t002", "t005", "t009"]))
        event = TAG
        status, code = {409}, "lease_lost"
    elif kind == "unknown_type":
        name = draw(
            st.sampled_from(["annotation.nope", "queue.page_assigned", "", "x"]) | SAFE_TEXT
        )
        event = {"type": name, "tag": "a"}
        status, code = {422}, None
    else:
        # Mostly refused; some mutations stay valid (another tag, an extra field, which
        # events ignore so that old servers read newer clients), and are recorded.
        event = draw(mutated(draw(st.sampled_from([TAG, _span(), _box()]))))
        status, code = {200, 409, 422}, None
    batch = [{"event_id": draw(st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True)), "event": event}]
    path = f"/api/projects/fuzz/items/{item}/events"
    content = encode({"events": batch})
    if not _is_strict_json(batch):
        # NaN and Infinity are not JSON: the body is refused as malformed (400), or as
        # mistyped (422) when the decoder meets a wrong type before the bad token.
        status, code = {400, 422}, None
    return Command(
        kind, "POST", path, "ann", content, {"content-type": "application/json"}, {}, status, code
    )


def _is_strict_json(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True


def _span() -> dict[str, Any]:
    return {"type": "annotation.span_tagged", "span_id": "s1", "tag": "a", "start": 0, "end": 3}


def _box() -> dict[str, Any]:
    return {"type": "annotation.box_drawn", "region_id": "r1", "x": 0, "y": 0, "w": 5, "h": 5}


@st.composite
def huge_body(draw: st.DrawFn) -> Command:
    path = draw(
        st.sampled_from(
            [
                "/api/projects/fuzz/items/t000/events",
                "/api/projects/fuzz/page",
                "/api/projects/fuzz/submit",
                "/api/projects",
                "/api/tokens",
            ]
        )
    )
    return Command(
        "huge",
        "POST",
        path,
        "admin",  # allowed everywhere: the size is what is refused
        headers={"content-type": "application/json"},
        status={413},
        code="payload_too_large",
        chunked=draw(st.booleans()),
        huge=draw(st.integers(MAX_BODY + 1, 4 * MAX_BODY)),
    )


def big_json(size: int) -> bytes:
    return b'{"events": [' + b"1," * (size // 2) + b"1]}"


def zip_with(name: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, "a line of text\n")
    return out.getvalue()


def tar_with(name: str) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        data = b"a line of text\n"
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (9, 8, 7)).save(out, "PNG")
    return out.getvalue()


PNG = png_bytes()


@st.composite
def bad_upload(draw: st.DrawFn) -> Command:
    """Uploads that must be refused file by file (422), or as a malformed form (400)."""
    kind = draw(
        st.sampled_from(["dotdot_zip", "dotdot_tar", "text_as_dcm", "truncated_png", "multipart"])
    )
    path = "/api/projects/fuzz/items"
    if kind == "multipart":
        boundary = draw(st.sampled_from(["B0undary", "", "x" * 80]))
        body = draw(st.binary(max_size=200))
        if draw(st.booleans()):
            body = b"--" + boundary.encode() + b"\r\n" + body
        headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
        return Command(kind, "POST", path, "admin", body, headers, {}, {400, 413, 422})
    if kind == "dotdot_zip":
        name, data = (
            "labels.zip",
            zip_with(draw(st.sampled_from(["../x.txt", "a/../../x.txt", "/etc/x.txt"]))),
        )
    elif kind == "dotdot_tar":
        name, data = (
            "labels.tar",
            tar_with(draw(st.sampled_from(["../x.txt", "a/../../x.txt", "/x.txt"]))),
        )
    elif kind == "text_as_dcm":
        name, data = "scan.dcm", draw(st.binary(min_size=1, max_size=300)) + b"not dicom"
    else:
        # Cut before the closing IEND chunk: Pillow takes a PNG that lacks only IEND's CRC
        # (its pixels are whole), and so does the server.
        name, data = "cut.png", PNG[: draw(st.integers(1, len(PNG) - 13))]
    form = httpx.Request("POST", "http://x/", files={"files": (name, data)})
    form.read()
    headers = {"content-type": form.headers["content-type"]}
    return Command(kind, "POST", path, "admin", form.content, headers, {}, {422})


COMMANDS = st.one_of(random_route(), random_route(), bad_events(), huge_body(), bad_upload())
