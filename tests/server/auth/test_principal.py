"""Who a request comes from: bearer token, session cookie, neither, or garbage."""

from collections.abc import Mapping

import pytest
from starlette.datastructures import Headers

from server.auth.cookies import COOKIE_NAME, SessionSigner
from server.auth.principal import Principal, needs_csrf, principal_from
from server.auth.users import UserStore
from tests.server.auth.conftest import SECRET_KEY, ManualClock

PASSWORD = "correct horse battery"


@pytest.fixture
def signer(clock: ManualClock) -> SessionSigner:
    return SessionSigner(SECRET_KEY, max_age=3600, clock=clock)


async def who(
    users: UserStore,
    signer: SessionSigner,
    headers: Mapping[str, str] | None = None,
    cookie: str | None = None,
) -> Principal | None:
    cookies = {COOKIE_NAME: cookie} if cookie is not None else {}
    return await principal_from(headers or {}, cookies, users, signer)


async def test_a_bearer_token_names_its_owner(users: UserStore, signer: SessionSigner) -> None:
    await users.add_user("alice", PASSWORD, is_admin=True)
    token_id, secret = await users.create_token("alice", "script")
    expected = Principal(
        username="alice", is_admin=True, session_id=f"tok-{token_id}", via="token", csrf=None
    )

    assert await who(users, signer, {"authorization": f"Bearer {secret}"}) == expected
    assert await who(users, signer, {"Authorization": f"bearer  {secret} "}) == expected
    assert await who(users, signer, Headers({"AUTHORIZATION": f"Bearer {secret}"})) == expected


async def test_a_session_cookie_names_its_user(users: UserStore, signer: SessionSigner) -> None:
    await users.add_user("Alice", PASSWORD)
    session = signer.new_session("Alice")

    principal = await who(users, signer, cookie=signer.sign(session))

    assert principal == Principal(
        username="Alice",
        is_admin=False,
        session_id=session.session_id,
        via="cookie",
        csrf=session.csrf,
    )


async def test_no_credentials_name_no_one(users: UserStore, signer: SessionSigner) -> None:
    await users.add_user("alice", PASSWORD)

    assert await who(users, signer) is None
    assert await who(users, signer, {"x-csrf-token": "whatever"}, cookie="") is None


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer ", "Bearer garbage", "Bearer al_0123456789abcdef_nope", "Bearer \x00"],
)
async def test_a_garbage_bearer_names_no_one_even_beside_a_good_cookie(
    users: UserStore, signer: SessionSigner, authorization: str
) -> None:
    await users.add_user("alice", PASSWORD)
    good_cookie = signer.sign(signer.new_session("alice"))

    assert await who(users, signer, {"authorization": authorization}) is None
    assert await who(users, signer, {"authorization": authorization}, good_cookie) is None


@pytest.mark.parametrize("cookie", ["garbage", "a.b", ".", "x" * 5000, "é.é"])
async def test_a_garbage_cookie_names_no_one(
    users: UserStore, signer: SessionSigner, cookie: str
) -> None:
    await users.add_user("alice", PASSWORD)

    assert await who(users, signer, cookie=cookie) is None


async def test_another_scheme_leaves_the_cookie_to_decide(
    users: UserStore, signer: SessionSigner
) -> None:
    await users.add_user("alice", PASSWORD)
    cookie = signer.sign(signer.new_session("alice"))
    basic = {"authorization": "Basic YWxpY2U6cGFzc3dvcmQ="}

    principal = await who(users, signer, basic, cookie)

    assert principal is not None
    assert principal.via == "cookie"
    assert await who(users, signer, basic) is None


async def test_a_revoked_token_or_an_expired_cookie_names_no_one(
    users: UserStore, signer: SessionSigner, clock: ManualClock
) -> None:
    await users.add_user("alice", PASSWORD)
    token_id, secret = await users.create_token("alice", "script")
    cookie = signer.sign(signer.new_session("alice"))

    await users.revoke_token(token_id)
    clock.now += 3601

    assert await who(users, signer, {"authorization": f"Bearer {secret}"}) is None
    assert await who(users, signer, cookie=cookie) is None


async def test_a_cookie_of_someone_unknown_names_no_one(
    users: UserStore, signer: SessionSigner
) -> None:
    cookie = signer.sign(signer.new_session("ghost"))

    assert await who(users, signer, cookie=cookie) is None


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "post", "PROPFIND"])
def test_state_changing_methods_need_csrf_with_cookies_only(method: str) -> None:
    assert needs_csrf(method, "cookie")
    assert not needs_csrf(method, "token")


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "TRACE", "get"])
def test_safe_methods_need_no_csrf(method: str) -> None:
    assert not needs_csrf(method, "cookie")
    assert not needs_csrf(method, "token")
