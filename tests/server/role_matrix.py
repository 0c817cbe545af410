"""The role × endpoint table of test_roles.py: what each kind of caller gets from every route
(`EXPECTED`), and how to make each route's call as one role (`PREPARE`)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tests.server.clients import Api, Clients, jsonl, tag
from tests.server.servers import Server, password_of

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
    # Only a browser session may change its password: these callers come with API tokens.
    ("PUT", "/api/session/password"): (403, 403, 403, 403, 403, 403, 401),
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
    ("PUT", "/api/session/password"): simple(
        "/api/session/password",
        json={"current_password": "not-checked-for-tokens", "new_password": "a-new-password"},
    ),
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
