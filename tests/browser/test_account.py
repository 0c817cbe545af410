"""Accounts from the browser: a user changes their own password and manages API tokens; an
administrator sets a password, disables and enables a user."""

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, sign_in

pytestmark = pytest.mark.browser


def _new_user(admin_api: Api, user: str) -> None:
    admin_api.post("/api/users", {"username": user, "password": f"{user}-demo-password"})


def _signs_in(base_url: str, user: str, password: str) -> int:
    answer = httpx.post(
        f"{base_url}/api/session", json={"username": user, "password": password}, timeout=30
    )
    return answer.status_code


def test_a_user_changes_their_password_and_makes_a_token(
    page: Page, admin_api: Api, base_url: str
) -> None:
    user, new = "acct_self", "a-brand-new-password"
    _new_user(admin_api, user)
    sign_in(page, user)
    page.get_by_role("link", name=user).click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()

    page.get_by_label("Current password").fill("not-my-password")
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("New password again").fill(new)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("that is not your current password")).to_be_visible()
    page.get_by_label("Current password").fill(f"{user}-demo-password")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Password changed. Your other sessions")).to_be_visible()
    assert _signs_in(base_url, user, f"{user}-demo-password") == 401
    assert _signs_in(base_url, user, new) == 200

    # This session carries on: it can still write (its CSRF token is unchanged).
    page.get_by_label("Label").fill("nightly export")
    page.get_by_role("button", name="Make a token").click()
    secret = page.locator("code.secret")
    expect(secret).to_be_visible()
    token = secret.inner_text()
    mine = httpx.get(
        f"{base_url}/api/session", headers={"authorization": f"Bearer {token}"}, timeout=30
    )
    assert mine.json()["user"] == user
    tokens = page.get_by_role("table", name="API tokens")
    expect(tokens).to_contain_text("nightly export")
    tokens.get_by_role("button", name="Revoke nightly export").click()
    expect(page.get_by_text("No API tokens.")).to_be_visible()
    gone = httpx.get(
        f"{base_url}/api/session", headers={"authorization": f"Bearer {token}"}, timeout=30
    )
    assert gone.status_code == 401


def test_an_administrator_sets_a_password_and_disables_a_user(
    page: Page, admin_api: Api, base_url: str
) -> None:
    user = "acct_managed"
    _new_user(admin_api, user)
    sign_in(page, "admin", "#/admin")
    users = page.get_by_role("table", name="Users")

    users.get_by_role("button", name=f"New password for {user}").click()
    page.get_by_role("dialog").get_by_label("New password", exact=True).fill("set-by-the-admin")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_text(f"{user} has a new password.")).to_be_visible()
    assert _signs_in(base_url, user, "set-by-the-admin") == 200

    users.get_by_role("button", name=f"Disable {user}").click()
    page.get_by_role("dialog").get_by_role("button", name="Disable").click()
    row = users.get_by_role("row").filter(has_text=user)
    expect(row).to_contain_text("disabled")
    assert _signs_in(base_url, user, "set-by-the-admin") == 403

    row.get_by_role("button", name=f"Enable {user}").click()
    expect(row).not_to_contain_text("disabled")
    assert _signs_in(base_url, user, "set-by-the-admin") == 200
    # An administrator cannot disable themselves from here.
    expect(users.get_by_role("button", name="Disable admin")).to_have_count(0)
