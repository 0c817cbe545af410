"""The websocket endpoint (docs/protocol.md): catch-up from `after`, then live, plus commands.

The client says hello with the project and the last seq it saw; the server registers it with
the hub first (holding live frames back), sends what it missed from the log, then releases
the held frames with seq above what it sent: no gap, no duplicate.
"""

import asyncio
import contextlib
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from events.base import ItemId, ProjectId
from events.codec import MAX_BATCH_EVENTS, payload_error
from events.envelope import IncomingEvent
from events.streams import item_stream
from server.api.common import signed_in
from server.auth.roles import allowed
from server.errors import ApiError, Forbidden, Unauthorized, Unprocessable
from server.frames import event_frame, frame, page_frame, progress_frame
from server.services import Services, services
from server.ws_client import SIGNED_OUT, Client

CATCH_UP_PAGE = 1_000
POLICY_VIOLATION = 1008
# How often an idle socket checks that its caller is still signed in (revoked, disabled).
SIGN_IN_RECHECK_SECONDS = 5.0


class Hello(msgspec.Struct, kw_only=True, tag="hello", forbid_unknown_fields=True):
    project: ProjectId
    after: Annotated[int, Meta(ge=0)] = 0
    token: str | None = None
    watch: Annotated[list[ItemId], Meta(max_length=100)] = []


class Watch(msgspec.Struct, kw_only=True, tag="watch", forbid_unknown_fields=True):
    items: Annotated[list[ItemId], Meta(max_length=100)]


class Append(msgspec.Struct, kw_only=True, tag="append", forbid_unknown_fields=True):
    id: Annotated[str, Meta(max_length=64)]
    item: ItemId
    events: Annotated[list[IncomingEvent], Meta(min_length=1, max_length=MAX_BATCH_EVENTS)]
    expected_version: Annotated[int, Meta(ge=0)] | None = None


class Heartbeat(msgspec.Struct, kw_only=True, tag="heartbeat", forbid_unknown_fields=True):
    pass


Command = Watch | Append | Heartbeat
_hello = msgspec.json.Decoder(Hello)
_command = msgspec.json.Decoder(Command)


def _decode(decoder: "msgspec.json.Decoder[Any]", text: str) -> object:
    try:
        return decoder.decode(text)
    except msgspec.ValidationError as exc:
        error = payload_error(exc)
        raise Unprocessable(error.message, field=error.path) from exc
    except msgspec.DecodeError as exc:
        raise Unprocessable(f"not a valid JSON message: {exc}", field="$") from exc


async def endpoint(websocket: WebSocket) -> None:
    found = services(websocket)
    await websocket.accept()
    try:
        raw = await asyncio.wait_for(_receive_text(websocket), timeout=30)
        hello = _decode(_hello, raw)
        assert isinstance(hello, Hello)
        headers = _credentials(websocket, hello)
        client, is_admin = await _join(found, websocket, hello, headers)
    except (ApiError, TimeoutError) as exc:
        body = (
            exc.body()
            if isinstance(exc, ApiError)
            else {"error": {"code": "timeout", "message": "no hello"}}
        )
        with contextlib.suppress(Exception):
            await websocket.send_text(frame("reject", id=None, **body))
            await websocket.close(POLICY_VIOLATION)
        return
    except WebSocketDisconnect:
        return
    watchdog = asyncio.create_task(_watch_sign_in(websocket, headers, client))
    try:
        while True:
            try:
                text = await _receive_text(websocket)
            except ApiError as exc:
                client.push(frame("reject", id=None, **exc.body()))
                continue
            if await _signed_out(websocket, headers, client):
                continue  # the socket is closing; what was sent after sign-out is not done
            await _handle(found, client, is_admin, text)
    except WebSocketDisconnect:
        pass
    finally:
        watchdog.cancel()
        await found.hub.remove(client)
        for stream in list(client.watching):
            found.hub.push_presence(stream)


async def _receive_text(websocket: WebSocket) -> str:
    """The next text frame; a binary frame is refused (the protocol is JSON in text frames)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text: str | None = message.get("text")
    if text is None:
        raise Unprocessable("send JSON in text frames; binary frames are not understood", field="$")
    return text


def _credentials(websocket: WebSocket, hello: Hello) -> dict[str, str]:
    """The handshake's headers, with hello's token as a bearer token when one was sent."""
    headers = dict(websocket.headers)
    if hello.token:
        headers["authorization"] = f"Bearer {hello.token}"
    elif not _same_origin(headers):
        # A handshake is a GET that carries the cookie but no CSRF token: without this check
        # another site's page could open a socket as the signed-in user.
        raise Forbidden("the websocket's Origin does not match this server", field="origin")
    return headers


async def _signed_out(websocket: WebSocket, headers: dict[str, str], client: Client) -> bool:
    """Whether the caller is no longer signed in; if so the client is sent why and closed."""
    try:
        if await signed_in(websocket, headers) is not None:
            return False
        error: ApiError = Unauthorized("your session has ended: sign in again", field="session")
    except (Unauthorized, Forbidden) as exc:  # sessions revoked, or the user disabled
        error = exc
    except ApiError:
        return False  # the user store is out of reach: that is not a sign-out
    client.end(frame("reject", id=None, **error.body()), SIGNED_OUT, "signed out")
    return True


async def _watch_sign_in(websocket: WebSocket, headers: dict[str, str], client: Client) -> None:
    """Closes a socket that sends nothing soon after its caller's sessions end."""
    while True:
        await asyncio.sleep(SIGN_IN_RECHECK_SECONDS)
        if await _signed_out(websocket, headers, client):
            return


async def _join(
    found: Services, websocket: WebSocket, hello: Hello, headers: dict[str, str]
) -> tuple[Client, bool]:
    """Registers the client and catches it up; returns it and whether it is a global admin."""
    principal = await signed_in(websocket, headers)
    if principal is None:
        raise Unauthorized(
            "sign in first: send a token in hello, or connect with the session cookie"
        )
    project = found.live.project(hello.project)
    role = project.members.get(principal.username)
    if not allowed(role, principal.is_admin, "project.read"):
        raise Forbidden(f"you are not a member of project {hello.project}", field="project")
    # Auditors and reviewers see everyone's work on the project; labelers what they watch.
    full_view = principal.is_admin or any(allowed(role, False, p) for p in ("audit.read", "review"))
    client = Client(
        websocket.send_text,
        websocket.close,
        principal.username,
        principal.session_id,
        hello.project,
        full_view,
        found.settings.client_queue_frames,
    )
    client.last_seq = hello.after
    client.watching = set()
    found.hub.add(client)
    found.hub.watch(
        client, [item_stream(hello.project, i) for i in hello.watch if i in project.items]
    )
    until = found.live.seq
    client.push(frame("welcome", user=principal.username, session=principal.session_id, seq=until))
    after = hello.after
    # Pages of at most half the client's queue, each sent before the next is read: a long
    # catch-up must not overflow the queue of a client that reads promptly.
    step = max(1, min(CATCH_UP_PAGE, client.limit // 2))
    while after < until:
        if not await _drained(client):
            break
        page = await found.store.read_all(after, min(step, until - after))
        if not page:
            break
        for recorded in page:
            if recorded.seq > until:
                break
            if recorded.stream.split("-", 2)[1] == hello.project and found.hub.visible(
                client, recorded
            ):
                client.push(event_frame(recorded))
            client.last_seq = recorded.seq
        after = page[-1].seq
    await _drained(client)
    client.last_seq = max(client.last_seq, until)
    client.push(frame("caught_up", seq=until))
    client.finish_catch_up()
    current = found.live.project(hello.project)
    counts = found.hub.counts(hello.project, current)
    client.push(page_frame(current, principal.session_id, counts))
    client.push(progress_frame(hello.project, current, counts))
    return client, principal.is_admin


async def _drained(client: Client) -> bool:
    """Waits until the client's writer has sent its queue; False if the client was dropped
    meanwhile (it stopped reading, or the live frames held for it piled past its limit)."""
    await client.drained.wait()
    return not client.dropped


def _same_origin(headers: dict[str, str]) -> bool:
    origin = headers.get("origin")
    if origin is None:
        return True  # not a browser: scripts authenticate with a token or their own cookie
    return urlsplit(origin).netloc == headers.get("host", "")


def _require(found: Services, client: Client, is_admin: bool, permission: str) -> None:
    """Each command checks the caller's role as it is now: it may have changed since hello."""
    role = found.live.project(client.project).members.get(client.user)
    if not allowed(role, is_admin, permission):
        if role is None and not is_admin:
            raise Forbidden(f"you are not a member of project {client.project}", field="project")
        raise Forbidden(f"your role ({role}) does not allow {permission}", field="project")


async def _handle(found: Services, client: Client, is_admin: bool, text: str) -> None:
    request_id: str | None = None
    try:
        command = _decode(_command, text)
        match command:
            case Watch(items=items):
                _require(found, client, is_admin, "project.read")
                project = found.live.project(client.project)
                found.hub.watch(
                    client, [item_stream(client.project, i) for i in items if i in project.items]
                )
            case Append(id=rid, item=item, events=events, expected_version=expected):
                request_id = rid
                _require(found, client, is_admin, "label")
                recorded = await found.commands.append_gestures(
                    client.project, item, client.user, client.session, events, expected
                )
                client.push(
                    frame(
                        "ack",
                        id=rid,
                        recorded=[
                            {"event_id": r.event_id, "seq": r.seq, "version": r.version}
                            for r in recorded
                        ],
                    )
                )
            case Heartbeat():
                _require(found, client, is_admin, "label")
                until = await found.commands.heartbeat(
                    client.project,
                    client.user,
                    client.session,
                    found.settings.renewal_record_seconds,
                )
                client.push(frame("lease", lease_until=until))
    except ApiError as exc:
        client.push(frame("reject", id=request_id, **exc.body()))


routes = [WebSocketRoute("/ws", endpoint)]
