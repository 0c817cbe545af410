"""The role matrix, every cell of it, and the docstring table that documents it."""

import itertools

import pytest

from server.auth import roles
from server.auth.roles import PERMISSIONS, ROLES, allowed, permissions_of

# Written out by hand, not derived from roles.GRANTS, so that a change there must change here.
MATRIX: dict[str, set[str | None]] = {
    "project.read": {"admin", "labeler", "reviewer", "auditor"},
    "project.manage": {"admin"},
    "items.import": {"admin"},
    "label": {"admin", "labeler"},
    "review": {"admin", "reviewer"},
    "audit.read": {"admin", "auditor"},
    "export": {"admin"},
    "admin.reproject": set(),
    "project.create": set(),
    "users.manage": set(),
}
MEMBERSHIPS: list[str | None] = [*ROLES, None]
CELLS = list(itertools.product(MEMBERSHIPS, PERMISSIONS))


def test_the_matrix_names_every_role_and_permission() -> None:
    assert set(ROLES) == {"admin", "labeler", "reviewer", "auditor"}
    assert set(PERMISSIONS) == set(MATRIX)
    assert len(CELLS) == 50


@pytest.mark.parametrize(("role", "permission"), CELLS)
def test_a_project_role_may_do_what_the_matrix_says(role: str | None, permission: str) -> None:
    assert allowed(role, False, permission) is (role in MATRIX[permission])


@pytest.mark.parametrize(("role", "permission"), CELLS)
def test_a_global_admin_may_do_everything(role: str | None, permission: str) -> None:
    assert allowed(role, True, permission) is True


def test_the_auditor_is_read_only() -> None:
    assert permissions_of("auditor") == {"project.read", "audit.read"}


def test_a_non_member_may_do_nothing() -> None:
    assert permissions_of(None) == frozenset()
    assert permissions_of(None, is_global_admin=True) == set(PERMISSIONS)


@pytest.mark.parametrize(
    ("role", "permission", "field"),
    [("owner", "project.read", "role"), ("admin", "delete_everything", "permission")],
)
def test_an_unknown_role_or_permission_is_a_mistake_not_a_no(
    role: str, permission: str, field: str
) -> None:
    with pytest.raises(ValueError, match=f"^{field}: unknown"):
        allowed(role, True, permission)


def test_the_docstring_table_is_the_matrix() -> None:
    doc = roles.__doc__ or ""
    header, *lines = [line.split() for line in doc.splitlines() if line.startswith("    ")]
    columns = header[1:5]
    table = {cells[0]: cells[1:5] for cells in lines if cells and cells[0] in PERMISSIONS}

    assert columns == list(ROLES)
    assert set(table) == set(PERMISSIONS)
    for permission, marks in table.items():
        granted = {role for role, mark in zip(columns, marks, strict=True) if mark == "✓"}
        assert granted == MATRIX[permission], permission
