"""The role × endpoint matrix: every route of the app, called by each kind of caller, gets the
answer this table says — what is allowed succeeds, what is refused gets 401 or 403 and writes
nothing. A route missing from the table fails the test, so a new endpoint needs an entry."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import Mount, Route, WebSocketRoute

from server.app import create_app
from server.settings import Settings
from tests.server.clients import Api, Clients, jsonl, make_project, tag
from tests.server.servers import Server, password_of
from tests.server.sockets import Socket

ROLES = ("admin", "project_admin", "labeler", "reviewer", "auditor", "non_member", "anonymous")
USER_OF = {
    "admin": "admin",  # a global administrator, not a member of the project
    "project_admin": "padmin",  # the project's admin role, not a global admin
    "labeler": "ann",
    "reviewer": "rita",
    "auditor": "audrey",
    "non_member": "olga",
    "anonymous": None,
}
OPEN = 0  # served to anyone: any answer but 401 and 403

P = "/api/projects/{project}"
ITEM = P + "/items/{item}"
# (method, path) -> the status each role gets, in the order of ROLES. Keys with "?" or a
# space are variants of a route (a query that needs more rights; websocket messages).
#                                                       admin padmin label review audit other anon
EXPECTED: dict[tuple[str, str], tuple[int, ...]] = {
    ("POST", "/api/session"): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/session"): (200, 200, 200, 200, 200, 200, 401),
    ("DELETE", "/api/session"): (200, 200, 200, 200, 200, 200, 401),
    ("POST", "/api/session/revoke"): (200, 200, 200, 200, 200, 200, 401),
    ("POST", "/api/tokens"): (201, 201, 201, 201, 201, 201, 401),
    ("GET", "/api/tokens"): (200, 200, 200, 200, 200, 200, 401),
    ("DELETE", "/api/tokens/{token}"): (200, 200, 200, 200, 200, 200, 401),
    ("GET", "/api/projects"): (200, 200, 200, 200, 200, 200, 401),
    ("POST", "/api/projects"): (201, 403, 403, 403, 403, 403, 401),
    ("GET", P): (200, 200, 200, 200, 200, 403, 401),
    ("PUT", P + "/tags"): (200, 200, 403, 403, 403, 403, 401),
    ("PUT", P + "/instructions"): (200, 200, 403, 403, 403, 403, 401),
    ("PUT", P + "/patient-identifiers"): (200, 200, 403, 403, 403, 403, 401),
    ("POST", P + "/members"): (200, 200, 403, 403, 403, 403, 401),
    ("DELETE", P + "/members/{user}"): (200, 200, 403, 403, 403, 403, 401),
    ("GET", P + "/stats"): (200, 200, 200, 200, 200, 403, 401),
    ("POST", P + "/items"): (201, 201, 403, 403, 403, 403, 401),
    ("GET", P + "/items"): (200, 200, 200, 200, 200, 403, 401),
    ("GET", ITEM + "/media"): (200, 200, 200, 200, 200, 403, 401),
    ("GET", P + "/page"): (200, 200, 200, 403, 403, 403, 401),
    ("POST", P + "/page"): (200, 200, 200, 403, 403, 403, 401),
    ("POST", ITEM + "/events"): (200, 200, 200, 403, 403, 403, 401),
    ("POST", ITEM + "/undo"): (200, 200, 200, 403, 403, 403, 401),
    ("POST", ITEM + "/redo"): (200, 200, 200, 403, 403, 403, 401),
    ("POST", P + "/submit"): (200, 200, 200, 403, 403, 403, 401),
    ("POST", P + "/skip"): (200, 200, 200, 403, 403, 403, 401),
    ("POST", P + "/layout"): (200, 200, 200, 403, 403, 403, 401),
    ("POST", P + "/heartbeat"): (200, 200, 200, 403, 403, 403, 401),
    ("GET", ITEM + "/state"): (200, 200, 200, 200, 200, 403, 401),
    ("GET", ITEM + "/state?as_of"): (200, 200, 403, 403, 200, 403, 401),
    ("GET", ITEM + "/history"): (200, 200, 403, 403, 200, 403, 401),
    ("GET", P + "/state"): (200, 200, 403, 403, 200, 403, 401),
    ("GET", "/api/log"): (200, 200, 403, 403, 200, 403, 401),  # ?project=
    ("GET", "/api/log?all"): (200, 403, 403, 403, 403, 403, 401),
    ("GET", "/api/users"): (200, 403, 403, 403, 403, 403, 401),
    ("POST", "/api/users"): (201, 403, 403, 403, 403, 403, 401),
    ("PATCH", "/api/users/{user}"): (200, 403, 403, 403, 403, 403, 401),
    ("POST", "/api/users/{user}/sessions/revoke"): (200, 403, 403, 403, 403, 403, 401),
    ("POST", "/api/admin/reproject"): (200, 403, 403, 403, 403, 403, 401),
    ("GET", P + "/assist"): (200, 200, 200, 200, 200, 403, 401),
    ("GET", P + "/export/formats"): (200, 200, 403, 403, 403, 403, 401),
    ("GET", P + "/export"): (200, 200, 403, 403, 403, 403, 401),
    # As for the model: allowed callers reach the check of the (missing) label file.
    ("POST", P + "/labels"): (400, 400, 403, 403, 403, 403, 401),
    # Allowed callers get past the role check to the body's check (no model sent): 400.
    ("POST", P + "/assist/model"): (400, 400, 403, 403, 403, 403, 401),
    ("GET", "/openapi.json"): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/"): (OPEN, OPEN, OPEN, OPEN, OPEN, OPEN, OPEN),
    # The websocket: hello, then each command (200: welcome / ack / answered).
    ("WS", "/ws"): (200, 200, 200, 200, 200, 403, 401),
    ("WS", "/ws watch"): (200, 200, 200, 200, 200, 403, 401),
    ("WS", "/ws append"): (200, 200, 200, 403, 403, 403, 401),
    ("WS", "/ws heartbeat"): (200, 200, 200, 403, 403, 403, 401),
}
SIGNED_IN = [role for role in ROLES if role != "anonymous"]


def app_routes() -> set[tuple[str, str]]:
    """(method, path) of every route of the app as built, websocket and mounts included."""
    found: set[tuple[str, str]] = set()
    for route in create_app(Settings(database=":memory:")).routes:
        match route:
            case Route(path=path, methods=methods):
                found |= {(m, path) for m in (methods or set()) - {"HEAD"}}
            case WebSocketRoute(path=path):
                found.add(("WS", path))
            case Mount(path=path):
                found.add(("GET", path or "/"))
            case _:
                raise AssertionError(f"a route of an unknown kind: {route!r}")
    return found


def test_every_route_has_a_row() -> None:
    routes = app_routes()
    missing = routes - set(EXPECTED)
    assert not missing, f"routes without an entry in EXPECTED: {sorted(missing)}"
    stale = {key for key in EXPECTED if key not in routes and key[1].split("?")[0].split()[0]}
    stale = {k for k in stale if (k[0], k[1].split("?")[0].split()[0]) not in routes}
    assert not stale, f"entries for routes the app does not have: {sorted(stale)}"
    for key, statuses in EXPECTED.items():
        assert len(statuses) == len(ROLES), key
        assert statuses[ROLES.index("anonymous")] in {401, 200, OPEN}, key


@dataclass
class Call:
    """A request to make as one role: path parameters filled in, body, query."""

    path: str
    kw: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    clients: Clients
    server: Server
    admin: Api
    project: str
    fresh: int = 0

    def next(self) -> int:
        self.fresh += 1
        return self.fresh


Prepare = Callable[[Context, str, Api], Awaitable[Call]]


def path(template: str, **params: str) -> str:
    return template.replace("{project}", "matrix").format(**params)


def simple(template: str, **kw: Any) -> Prepare:
    async def prepare(ctx: Context, role: str, api: Api) -> Call:
        return Call(path(template, item="t000"), dict(kw))

    return prepare


def may_label(role: str) -> bool:
    return EXPECTED[("POST", P + "/page")][ROLES.index(role)] == 200


async def own_item(ctx: Context, role: str, api: Api, *gestures: dict[str, Any]) -> str:
    """The first item of the role's page (t000 for roles that may not label)."""
    if not may_label(role):
        return "t000"
    item: str = (await api.page("matrix"))["items"][0]
    for gesture in gestures:
        await api.gestures("matrix", item, gesture)
    return item


def on_own_item(action: str, *gestures: dict[str, Any], undo_first: bool = False) -> Prepare:
    async def prepare(ctx: Context, role: str, api: Api) -> Call:
        item = await own_item(ctx, role, api, *gestures)
        if undo_first and may_label(role):
            await api.post(f"/api/projects/matrix/items/{item}/undo")
        body = {"events": [{"event_id": f"m{ctx.next()}", "event": tag("a")}]}
        return Call(path(ITEM + action, item=item), {"json": body} if action == "/events" else {})

    return prepare


async def sign_in(ctx: Context, role: str, api: Api) -> Call:
    user = USER_OF[role] or "carl"  # anyone may sign in: the anonymous caller too
    return Call("/api/session", {"json": {"username": user, "password": password_of(user)}})


async def sign_out(ctx: Context, role: str, api: Api) -> Call:
    # Signs out a session of its own (a fresh token), leaving the role's page alone.
    if role != "anonymous":
        api.token = (await api.post("/api/tokens", {"label": "out"}, 201))["token"]
    return Call("/api/session")


async def revoke(ctx: Context, role: str, api: Api) -> Call:
    owner = api if role != "anonymous" else ctx.admin
    made = await owner.post("/api/tokens", {"label": "revoke"}, 201)
    return Call(f"/api/tokens/{made['token_id']}")


async def new_project(ctx: Context, role: str, api: Api) -> Call:
    body = {
        "project_id": f"made_{ctx.next()}",
        "name": "made",
        "project_type": "text_multiclass",
        "tags": [{"name": "a", "colour": "#ff0000"}],
    }
    return Call("/api/projects", {"json": body})


async def remove_member(ctx: Context, role: str, api: Api) -> Call:
    await ctx.admin.post("/api/projects/matrix/members", {"user": "bob", "role": "labeler"})
    return Call(path(P + "/members/bob"))


async def import_items(ctx: Context, role: str, api: Api) -> Call:
    data = jsonl([(f"x{ctx.next()}", f"imported text {ctx.fresh}")])
    return Call(path(P + "/items"), {"files": {"files": ("more.jsonl", data)}})


async def submit(ctx: Context, role: str, api: Api) -> Call:
    if may_label(role):
        for item in (await api.page("matrix"))["items"]:
            await api.gestures("matrix", item, tag("b"))
    return Call(path(P + "/submit"))


async def skip(ctx: Context, role: str, api: Api) -> Call:
    return Call(path(P + "/skip"), {"json": {"item": await own_item(ctx, role, api)}})


async def layout(ctx: Context, role: str, api: Api) -> Call:
    await own_item(ctx, role, api, tag("c"))
    return Call(path(P + "/layout"), {"json": {"page_size": 1}})


async def add_user(ctx: Context, role: str, api: Api) -> Call:
    body = {"username": f"new{ctx.next()}", "password": "a-long-enough-password"}
    return Call("/api/users", {"json": body})


PREPARE: dict[tuple[str, str], Prepare] = {
    ("POST", "/api/session"): sign_in,
    ("GET", "/api/session"): simple("/api/session"),
    ("DELETE", "/api/session"): sign_out,
    ("POST", "/api/session/revoke"): simple("/api/session/revoke"),
    ("POST", "/api/tokens"): simple("/api/tokens", json={"label": "matrix"}),
    ("GET", "/api/tokens"): simple("/api/tokens"),
    ("DELETE", "/api/tokens/{token}"): revoke,
    ("GET", "/api/projects"): simple("/api/projects"),
    ("POST", "/api/projects"): new_project,
    ("GET", P): simple(P),
    ("PUT", P + "/tags"): simple(
        P + "/tags", json={"tags": [{"name": n, "colour": "#00ff00"} for n in "abc"]}
    ),
    ("PUT", P + "/instructions"): simple(P + "/instructions", json={"instructions": "# Do"}),
    ("PUT", P + "/patient-identifiers"): simple(P + "/patient-identifiers", json={"shown": False}),
    ("POST", P + "/members"): simple(P + "/members", json={"user": "carl", "role": "labeler"}),
    ("DELETE", P + "/members/{user}"): remove_member,
    ("GET", P + "/stats"): simple(P + "/stats"),
    ("POST", P + "/items"): import_items,
    ("GET", P + "/items"): simple(P + "/items"),
    ("GET", ITEM + "/media"): simple(ITEM + "/media"),
    ("GET", P + "/page"): simple(P + "/page"),
    ("POST", P + "/page"): simple(P + "/page"),
    ("POST", ITEM + "/events"): on_own_item("/events"),
    ("POST", ITEM + "/undo"): on_own_item("/undo", tag("a")),
    ("POST", ITEM + "/redo"): on_own_item("/redo", tag("b"), undo_first=True),
    ("POST", P + "/submit"): submit,
    ("POST", P + "/skip"): skip,
    ("POST", P + "/layout"): layout,
    ("POST", P + "/heartbeat"): simple(P + "/heartbeat"),
    ("GET", ITEM + "/state"): simple(ITEM + "/state"),
    ("GET", ITEM + "/state?as_of"): simple(ITEM + "/state", params={"as_of": 5}),
    ("GET", ITEM + "/history"): simple(ITEM + "/history"),
    ("GET", P + "/state"): simple(P + "/state"),
    ("GET", "/api/log"): simple("/api/log", params={"project": "matrix"}),
    ("GET", "/api/log?all"): simple("/api/log"),
    ("GET", "/api/users"): simple("/api/users"),
    ("POST", "/api/users"): add_user,
    # carl: enabled (a no-op) and signed out everywhere; the matrix's callers use tokens.
    ("PATCH", "/api/users/{user}"): simple("/api/users/carl", json={"disabled": False}),
    ("POST", "/api/users/{user}/sessions/revoke"): simple("/api/users/carl/sessions/revoke"),
    ("POST", "/api/admin/reproject"): simple("/api/admin/reproject"),
    ("GET", P + "/assist"): simple(P + "/assist"),
    ("GET", P + "/export/formats"): simple(P + "/export/formats"),
    ("GET", P + "/export"): simple(P + "/export", params={"format": "jsonl"}),
    ("POST", P + "/labels"): simple(P + "/labels", params={"format": "jsonl"}),
    ("POST", P + "/assist/model"): simple(P + "/assist/model", json={"model": "nope"}),
    ("GET", "/openapi.json"): simple("/openapi.json"),
    ("GET", "/"): simple("/"),
}


async def test_role_matrix_over_http(
    server: Server, clients: Clients, tokens: dict[str, list[str]]
) -> None:
    admin = clients("admin")
    members = {"padmin": "admin", "ann": "labeler", "rita": "reviewer", "audrey": "auditor"}
    await make_project(admin, "matrix", items=60, members=members, page_size=1)
    ctx = Context(clients, server, admin, "matrix")
    http_keys = [key for key in EXPECTED if key[0] != "WS"]
    assert set(PREPARE) == set(http_keys)
    failures: list[str] = []
    for key in http_keys:
        method = key[0]
        for role, expected in zip(ROLES, EXPECTED[key], strict=True):
            api = clients(USER_OF[role])
            call = await PREPARE[key](ctx, role, api)
            before = await admin.last_seq()
            response = await api.request(method, call.path, **call.kw)
            clients.http.cookies.clear()  # a sign-in's cookie must not sign in the next caller
            got = response.status_code
            refused = got in {401, 403}
            ok = (not refused) if expected == OPEN else got == expected
            if not ok:
                failures.append(f"{role:14} {method} {call.path}: {got} (expected {expected})")
                failures.append(f"    {response.text[:300]}")
                continue
            if refused:
                error = response.json()["error"]
                assert error["code"] == {401: "unauthorized", 403: "forbidden"}[got], error
                assert error["message"], error
                if await admin.last_seq() != before:
                    failures.append(f"{role:14} {method} {call.path}: refused, yet wrote")
            elif key in ANSWERS:
                failures += [
                    f"{role:14} {method} {call.path}: {problem}"
                    for problem in ANSWERS[key](role, response.json())
                ]
    assert not failures, "\n".join(failures)


def listed_projects(role: str, answer: Any) -> list[str]:
    """Members and global admins see the project in the list; others do not."""
    shown = "matrix" in [p["project_id"] for p in answer["projects"]]
    return [] if shown == (role != "non_member") else [f"lists matrix: {shown}"]


def project_detail(role: str, answer: Any) -> list[str]:
    """Only the project's admins (and global admins) see who its members are."""
    sees = answer["members"] is not None
    return [] if sees == (role in {"admin", "project_admin"}) else [f"sees members: {sees}"]


# Allowed answers whose content also depends on the role.
ANSWERS: dict[tuple[str, str], Callable[[str, Any], list[str]]] = {
    ("GET", "/api/projects"): listed_projects,
    ("GET", P): project_detail,
}


async def test_role_matrix_over_the_websocket(
    server: Server, clients: Clients, tokens: dict[str, list[str]]
) -> None:
    admin = clients("admin")
    members = {"padmin": "admin", "ann": "labeler", "rita": "reviewer", "audrey": "auditor"}
    await make_project(admin, "wsmatrix", items=10, members=members, page_size=1)
    failures: list[str] = []

    def check(role: str, key: str, got: int) -> None:
        expected = EXPECTED[("WS", key)][ROLES.index(role)]
        if got != expected:
            failures.append(f"{role:14} {key}: {got} (expected {expected})")

    def status(frame: dict[str, Any]) -> int:
        if frame["type"] != "reject":
            return 200
        code = frame["error"]["code"]
        return {"unauthorized": 401, "forbidden": 403}.get(code, 409 if "lease" in code else 400)

    for role in ROLES:
        user = USER_OF[role]
        token = None if user is None else tokens[user][0]
        socket = await Socket.open(server, token, "wsmatrix", caught_up=False)
        try:
            first = await socket.wait(lambda f: f["type"] in {"welcome", "reject"})
            check(role, "/ws", status(first))
            if first["type"] == "reject":
                assert await socket.closing() == 1008
                for command in ("watch", "append", "heartbeat"):  # never got that far
                    check(role, f"/ws {command}", status(first))
                continue
            await socket.wait(lambda f: f["type"] == "caught_up")
            mark = socket.mark()
            await socket.send({"type": "watch", "items": ["t000"]})
            answer = await socket.wait(lambda f: f["type"] in {"presence", "reject"}, mark)
            check(role, "/ws watch", status(answer))
            item = "t000"
            if user is not None and may_label(role):
                item = (await clients(user).page("wsmatrix"))["items"][0]
            answer = await socket.request(
                {
                    "type": "append",
                    "item": item,
                    "events": [{"event_id": f"w{role}", "event": tag("a")}],
                }
            )
            check(role, "/ws append", status(answer))
            mark = socket.mark()
            await socket.send({"type": "heartbeat"})
            answer = await socket.wait(lambda f: f["type"] in {"lease", "reject"}, mark)
            check(role, "/ws heartbeat", status(answer))
        finally:
            await socket.close()
    assert not failures, "\n".join(failures)


async def test_cookie_sessions_need_the_csrf_token_to_write(
    server: Server, clients: Clients
) -> None:
    await make_project(clients("admin"), "csrf", items=2)
    http = clients.http
    signed = await http.post(
        "/api/session", json={"username": "ann", "password": password_of("ann")}
    )
    assert signed.status_code == 200
    csrf = signed.json()["csrf_token"]
    try:
        assert (await http.get("/api/projects/csrf")).status_code == 200
        refused = await http.post("/api/projects/csrf/page")
        assert refused.status_code == 403
        assert refused.json()["error"]["field"] == "x-csrf-token"
        wrong = await http.post("/api/projects/csrf/page", headers={"x-csrf-token": "x" + csrf})
        assert wrong.status_code == 403
        page = await http.post("/api/projects/csrf/page", headers={"x-csrf-token": csrf})
        assert page.status_code == 200
        assert page.json()["items"] == ["t000", "t001"]
    finally:
        http.cookies.clear()
