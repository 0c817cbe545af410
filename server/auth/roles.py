"""Project roles and what each may do.

    permission        admin  labeler  reviewer  auditor   what it covers
    project.read        ✓       ✓        ✓         ✓      settings, tags, instructions, progress
    project.manage      ✓       ·        ·         ·      update tags, instructions, members
    items.import        ✓       ·        ·         ·      import images, DICOM and text
    label               ✓       ✓        ·         ·      next page, draft, submit, skip, undo
    review              ✓       ·        ✓         ·      read and review everyone's labels
    audit.read          ✓       ·        ·         ✓      item history, state as of a seq, log
    export              ✓       ·        ·         ·      export annotations
    admin.reproject     ·       ·        ·         ·      rebuild a read model (spans projects)
    project.create      ·       ·        ·         ·      create a project
    users.manage        ·       ·        ·         ·      add users, reset passwords, tokens

A global admin (User.is_admin) may do everything, in every project, member or not. The last
three rows are for global admins only: they reach beyond one project. A labeler works on their
own pages and drafts only; that "own" is the server's to enforce, as it depends on the item.
The auditor is read-only. `role` None means the user is not a member of the project.
"""

from typing import Literal, get_args

Role = Literal["admin", "labeler", "reviewer", "auditor"]
Permission = Literal[
    "project.read",
    "project.manage",
    "items.import",
    "label",
    "review",
    "audit.read",
    "export",
    "admin.reproject",
    "project.create",
    "users.manage",
]
ROLES: tuple[Role, ...] = get_args(Role)
PERMISSIONS: tuple[Permission, ...] = get_args(Permission)

GRANTS: dict[str, frozenset[str]] = {
    "admin": frozenset(
        {
            "project.read",
            "project.manage",
            "items.import",
            "label",
            "review",
            "audit.read",
            "export",
        }
    ),
    "labeler": frozenset({"project.read", "label"}),
    "reviewer": frozenset({"project.read", "review"}),
    "auditor": frozenset({"project.read", "audit.read"}),
}


def allowed(role: str | None, is_global_admin: bool, permission: str) -> bool:
    """Whether a user with this project role (None: not a member) may do this."""
    # A typo in a permission or a role would otherwise read as a quiet "no".
    if permission not in PERMISSIONS:
        raise ValueError(f"permission: unknown {permission!r}")
    if role is not None and role not in GRANTS:
        raise ValueError(f"role: unknown {role!r}")
    if is_global_admin:
        return True
    return role is not None and permission in GRANTS[role]


def permissions_of(role: str | None, is_global_admin: bool = False) -> frozenset[str]:
    """Every permission such a user holds, for a client to show or hide its controls."""
    return frozenset(p for p in PERMISSIONS if allowed(role, is_global_admin, p))
