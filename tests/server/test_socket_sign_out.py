"""An open websocket ends with its caller's sessions: revoked cookies and disabled users are
told why and closed, and nothing they send after that is recorded."""

import time
from collections.abc import Callable

from websockets.asyncio.client import connect

from server.api.ws import SIGN_IN_RECHECK_SECONDS
from server.auth.cookies import COOKIE_NAME
from server.ws_client import SIGNED_OUT
from tests.server.clients import Clients, make_project, new_id, read_log
from tests.server.servers import Server
from tests.server.sockets import Socket
from tests.server.test_sessions import Browser, browsers, new_user

__all__ = ["browsers"]  # the fixture, used here by name

# The check runs every SIGN_IN_RECHECK_SECONDS; another process may see a revocation up to
# its 1 s user cache later.
WITHIN = SIGN_IN_RECHECK_SECONDS + 3


async def _cookie_socket(server: Server, browser: Browser, project: str) -> Socket:
    connection = await connect(
        server.ws_url,
        compression=None,
        open_timeout=10,
        additional_headers={"cookie": f"{COOKIE_NAME}={browser.http.cookies[COOKIE_NAME]}"},
    )
    socket = Socket(connection)
    await socket.send({"type": "hello", "project": project})
    await socket.wait(lambda f: f["type"] == "caught_up")
    return socket


def _gesture(item: str) -> dict[str, object]:
    event = {"event_id": new_id(), "event": {"type": "annotation.tag_applied", "tag": "a"}}
    return {"type": "append", "id": new_id(), "item": item, "events": [event]}


async def test_an_idle_socket_ends_soon_after_its_sessions_are_revoked(
    server: Server, clients: Clients, browsers: Callable[[], Browser]
) -> None:
    admin = clients("admin")
    await new_user(admin, "wanda")
    await make_project(admin, "revoked_ws", items=2, members={"wanda": "labeler"})
    laptop, phone = browsers(), browsers()
    await laptop.sign_in("wanda")
    await phone.sign_in("wanda")
    page = await phone.post("/api/projects/revoked_ws/page", {"page_size": 2})
    assert page.json()["items"] == ["t000", "t001"]
    socket = await _cookie_socket(server, phone, "revoked_ws")
    assert (await socket.request(_gesture("t000")))["type"] == "ack"

    started = time.monotonic()
    assert (await laptop.post("/api/session/revoke")).status_code == 200
    told = await socket.wait(lambda f: f["type"] == "reject", within=WITHIN)
    assert await socket.closing(within=WITHIN) == SIGNED_OUT
    assert time.monotonic() - started < WITHIN
    assert told["id"] is None
    assert told["error"]["code"] == "unauthorized"
    assert told["error"]["field"] == "session"
    assert "sign in again" in told["error"]["message"]


async def test_a_gesture_sent_after_sign_out_is_not_recorded(
    server: Server, clients: Clients, browsers: Callable[[], Browser]
) -> None:
    admin = clients("admin")
    await new_user(admin, "xena")
    await make_project(admin, "late_gesture", items=1, members={"xena": "labeler"})
    laptop = browsers()
    await laptop.sign_in("xena")
    await laptop.post("/api/projects/late_gesture/page", {"page_size": 1})
    socket = await _cookie_socket(server, laptop, "late_gesture")

    # Revoked on this process: the very next message is refused, before it is read.
    assert (await laptop.post("/api/session/revoke")).status_code == 200
    await socket.send(_gesture("t000"))
    told = await socket.wait(lambda f: f["type"] == "reject", within=WITHIN)
    assert told["error"]["code"] == "unauthorized"
    assert await socket.closing(within=WITHIN) == SIGNED_OUT
    recorded = [e["event"]["type"] for e in await read_log(admin, "late_gesture")]
    assert "queue.session_closed" in recorded  # the revocation gave the page back
    assert not any(kind.startswith("annotation.") for kind in recorded)


async def test_a_token_socket_ends_when_its_user_is_disabled(
    server: Server, clients: Clients, browsers: Callable[[], Browser]
) -> None:
    admin = clients("admin")
    await new_user(admin, "yusuf")
    await make_project(admin, "disabled_ws", items=1, members={"yusuf": "labeler"})
    laptop = browsers()
    await laptop.sign_in("yusuf")
    made = await laptop.post("/api/tokens", {"label": "script"})
    assert made.status_code == 201, made.text
    socket = await Socket.open(server, made.json()["token"], "disabled_ws")

    changed = await admin.request("PATCH", "/api/users/yusuf", json={"disabled": True})
    assert changed.status_code == 200, changed.text
    told = await socket.wait(lambda f: f["type"] == "reject", within=WITHIN)
    assert told["error"]["code"] == "forbidden"
    assert told["error"]["field"] == "username"
    assert await socket.closing(within=WITHIN) == SIGNED_OUT
