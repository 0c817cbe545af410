"""The role × endpoint matrix: every route of the app, called by each kind of caller, gets the
answer the table in role_matrix.py says — what is allowed succeeds, what is refused gets 401
or 403 and writes nothing. A route missing from the table fails the test, so a new endpoint
needs an entry."""

from collections.abc import Callable
from typing import Any

from starlette.routing import Mount, Route, WebSocketRoute

from server.app import create_app
from server.settings import Settings
from tests.server.clients import Clients, make_project, tag
from tests.server.role_matrix import EXPECTED, OPEN, PREPARE, ROLES, USER_OF, Context, P, may_label
from tests.server.servers import Server, password_of
from tests.server.sockets import Socket


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
