"""Revocable sessions over real HTTP: signing out everywhere, an administrator's new password,
disabling and enabling a user, and the errors each bad request gets."""

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from server.auth.cookies import COOKIE_NAME
from tests.server.clients import Api, Clients, http_client, make_project
from tests.server.servers import Server

PASSWORD = "a-long-enough-password"


class Browser:
    """One browser: its own cookie jar, and the CSRF token of its sign-in."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.csrf = ""

    async def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        response = await self.http.post(
            "/api/session", json={"username": username, "password": password}
        )
        if response.status_code == 200:
            self.csrf = response.json()["csrf_token"]
        return response

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.http.post(path, json=body, headers={"x-csrf-token": self.csrf})

    async def who(self) -> httpx.Response:
        return await self.http.get("/api/session")

    def copy(self, other: "Browser") -> None:
        """Takes the other browser's cookie, as a thief who copied it would."""
        self.http.cookies.set(COOKIE_NAME, other.http.cookies[COOKIE_NAME])
        self.csrf = other.csrf


@pytest.fixture
async def browsers(server: Server) -> AsyncIterator[Callable[[], Browser]]:
    async with AsyncExitStack() as stack:

        def browser() -> Browser:
            http = http_client(server)
            stack.push_async_callback(http.aclose)
            return Browser(http)

        yield browser


async def new_user(admin: Api, username: str) -> None:
    await admin.post("/api/users", {"username": username, "password": PASSWORD}, 201)


def assert_error(response: httpx.Response, status: int, field: str, *words: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error.get("field") == field, error
    for word in words:
        assert word in error["message"], error


async def test_signing_out_everywhere_ends_copied_cookies_and_other_devices(
    clients: Clients, browsers: Callable[[], Browser]
) -> None:
    await new_user(clients("admin"), "sofia")
    laptop, thief, phone = browsers(), browsers(), browsers()
    assert (await laptop.sign_in("sofia")).status_code == 200
    thief.copy(laptop)
    assert (await phone.sign_in("sofia")).status_code == 200
    assert (await thief.who()).json()["user"] == "sofia"

    refused = await laptop.http.post("/api/session/revoke")  # no CSRF token
    assert_error(refused, 403, "x-csrf-token")
    answer = await laptop.post("/api/session/revoke")

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"revoked": "sofia"}
    assert COOKIE_NAME not in laptop.http.cookies  # cleared
    for browser in (thief, phone):
        assert_error(await browser.who(), 401, "session", "'sofia'", "sign in again")
        assert_error(await browser.post("/api/tokens", {"label": "x"}), 401, "session")
    assert (await phone.sign_in("sofia")).status_code == 200
    assert (await phone.who()).json()["user"] == "sofia"
    assert (await clients(None).request("POST", "/api/session/revoke")).status_code == 401


async def test_signing_out_everywhere_gives_the_pages_back_at_once(
    clients: Clients, browsers: Callable[[], Browser]
) -> None:
    admin = clients("admin")
    await new_user(admin, "pia")
    await make_project(admin, "everywhere", items=2, members={"pia": "labeler", "bob": "labeler"})
    first, second = browsers(), browsers()
    await first.sign_in("pia")
    await second.sign_in("pia")
    page = await first.post("/api/projects/everywhere/page", {"page_size": 2})
    assert page.json()["items"] == ["t000", "t001"]
    assert (await clients("bob").page("everywhere"))["items"] == []

    assert (await second.post("/api/session/revoke")).status_code == 200

    assert (await clients("bob").page("everywhere"))["items"] == ["t000", "t001"]


async def test_an_administrator_disables_and_enables_a_user(
    clients: Clients, browsers: Callable[[], Browser]
) -> None:
    admin = clients("admin")
    await new_user(admin, "dora")
    browser = browsers()
    await browser.sign_in("dora")
    token = (await browser.post("/api/tokens", {"label": "script"})).json()["token"]
    dora = Api(clients.http, token, "dora")

    changed = await admin.call("PATCH", "/api/users/Dora", json={"disabled": True})

    assert (changed["username"], changed["disabled"]) == ("dora", True)
    assert_error(await browser.who(), 401, "session", "disabled")
    assert_error(await dora.request("GET", "/api/session"), 403, "username", "disabled")
    assert_error(await browsers().sign_in("dora"), 403, "username", "'dora' is disabled")
    assert_error(await browsers().sign_in("dora", "wrong password"), 401, "password")
    listed = {u["username"]: u["disabled"] for u in (await admin.get("/api/users"))["users"]}
    assert listed["dora"] is True
    assert listed["admin"] is False

    enabled = await admin.call("PATCH", "/api/users/dora", json={"disabled": False})

    assert enabled["disabled"] is False
    assert (await dora.get("/api/session"))["user"] == "dora"
    assert_error(await browser.who(), 401, "session")  # cookies from before stay ended
    assert (await browser.sign_in("dora")).status_code == 200
    assert (await browser.who()).json()["user"] == "dora"


async def test_an_administrators_new_password_ends_the_sessions(
    clients: Clients, browsers: Callable[[], Browser]
) -> None:
    admin = clients("admin")
    await new_user(admin, "nils")
    browser = browsers()
    await browser.sign_in("nils")

    await admin.call("PATCH", "/api/users/nils", json={"password": "the new password"})

    assert_error(await browser.who(), 401, "session")
    assert_error(await browser.sign_in("nils"), 401, "password")
    assert (await browser.sign_in("nils", "the new password")).status_code == 200
    assert (await browser.who()).json()["user"] == "nils"


async def test_an_administrator_signs_a_user_out_everywhere_tokens_kept(
    clients: Clients, browsers: Callable[[], Browser]
) -> None:
    admin = clients("admin")
    await new_user(admin, "otto")
    browser = browsers()
    await browser.sign_in("otto")
    token = (await browser.post("/api/tokens", {"label": "script"})).json()["token"]

    answer = await admin.post("/api/users/OTTO/sessions/revoke")

    assert answer == {"revoked": "otto"}
    assert_error(await browser.who(), 401, "session")
    assert (await Api(clients.http, token).get("/api/session"))["user"] == "otto"


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "status", "field"),
    [
        ("admin", "PATCH", "/api/users/bob", {}, 422, "$"),
        ("admin", "PATCH", "/api/users/bob", {"password": "short"}, 422, "$.password"),
        ("admin", "PATCH", "/api/users/bob", {"disabled": "yes"}, 422, "$.disabled"),
        ("admin", "PATCH", "/api/users/bob", {"disabled": True, "why": 1}, 422, "$"),
        ("admin", "PATCH", "/api/users/bob", b"{not json", 400, "$"),
        ("admin", "PATCH", "/api/users/admin", {"disabled": True}, 422, "$.disabled"),
        ("admin", "PATCH", "/api/users/nobody", {"disabled": True}, 404, "user"),
        ("admin", "POST", "/api/users/nobody/sessions/revoke", None, 404, "user"),
        ("admin", "POST", "/api/users/a%20b/sessions/revoke", None, 404, "user"),
        ("ann", "PATCH", "/api/users/bob", {"disabled": True}, 403, None),
        ("ann", "POST", "/api/users/bob/sessions/revoke", None, 403, None),
        (None, "PATCH", "/api/users/bob", {"disabled": True}, 401, None),
    ],
)
async def test_bad_user_changes_are_refused_naming_the_field(
    clients: Clients,
    who: str | None,
    method: str,
    path: str,
    body: Any,
    status: int,
    field: str | None,
) -> None:
    sent = {"content": body} if isinstance(body, bytes) else {"json": body}
    response = await clients(who).request(method, path, **sent)

    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error.get("field") == field, error
    assert error["message"]
    users = {u["username"]: u for u in (await clients("admin").get("/api/users"))["users"]}
    assert not users["bob"]["disabled"]
    assert not users["admin"]["disabled"]


async def test_a_user_changes_their_own_password_and_keeps_this_session(
    clients: Clients, browsers: Callable[[], Browser]
) -> None:
    admin = clients("admin")
    await new_user(admin, "quinn")
    await make_project(
        admin, "own_password", items=4, members={"quinn": "labeler", "bob": "labeler"}
    )
    laptop, phone = browsers(), browsers()
    await laptop.sign_in("quinn")
    await phone.sign_in("quinn")
    held = (await laptop.post("/api/projects/own_password/page", {"page_size": 2})).json()["items"]
    lent = (await phone.post("/api/projects/own_password/page", {"page_size": 2})).json()["items"]
    path = "/api/session/password"

    async def change(body: dict[str, str], csrf: bool = True) -> httpx.Response:
        headers = {"x-csrf-token": laptop.csrf} if csrf else {}
        return await laptop.http.put(path, json=body, headers=headers)

    new = "another-long-password"
    assert_error(
        await change({"current_password": PASSWORD, "new_password": new}, csrf=False),
        403,
        "x-csrf-token",
    )
    assert_error(
        await change({"current_password": "wrong-one!", "new_password": new}),
        403,
        "current_password",
    )
    assert_error(
        await change({"current_password": PASSWORD, "new_password": "short"}),
        422,
        "new_password",
        "8 to",
    )
    assert_error(await change({"current_password": PASSWORD}), 422, "$")
    token = (await laptop.post("/api/tokens", {"label": "script"})).json()["token"]
    by_token = await laptop.http.put(
        path,
        json={"current_password": PASSWORD, "new_password": new},
        headers={"authorization": f"Bearer {token}"},
    )
    assert_error(by_token, 403, "authorization")
    assert (await laptop.sign_in("quinn", new)).status_code == 401  # nothing changed yet

    session = (await laptop.who()).json()["session"]
    answer = await change({"current_password": PASSWORD, "new_password": new})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"changed": "quinn"}

    # This browser carries on: same session, same CSRF token, its page still its own.
    assert (await laptop.who()).json()["session"] == session
    again = await laptop.post("/api/projects/own_password/page", {"page_size": 2})
    assert again.json()["items"] == held
    # The other browser is signed out and its page went back to the queue.
    assert_error(await phone.who(), 401, "session")
    assert sorted((await clients("bob").page("own_password"))["items"]) == sorted(lent)
    # The API token is not a session: it still works.
    mine = await laptop.http.get("/api/session", headers={"authorization": f"Bearer {token}"})
    assert mine.status_code == 200
    assert (await phone.sign_in("quinn")).status_code == 401
    assert (await phone.sign_in("quinn", new)).status_code == 200
