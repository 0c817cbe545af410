"""A labeler whose sessions an admin ends is taken to the sign-in screen and told why."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, make_project, open_labeling, png

pytestmark = pytest.mark.browser


def test_a_revoked_labeler_is_sent_to_sign_in(page: Page, admin_api: Api) -> None:
    user = "rev_labeler"
    admin_api.post("/api/users", {"username": user, "password": f"{user}-demo-password"})
    files = [(f"r{i}.png", png(80, 60, seed=i)) for i in range(2)]
    project = make_project(
        admin_api, "image_multiclass", ["a", "b"], files, members=((user, "labeler"),)
    )
    open_labeling(page, user, project)

    admin_api.post(f"/api/users/{user}/sessions/revoke")

    # The idle socket notices within its recheck interval (5 s) and the client signs out.
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=15_000)
    expect(page.get_by_text("sign in again").first).to_be_visible()
