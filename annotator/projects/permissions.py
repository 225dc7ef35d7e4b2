"""Who may do what in a project: roles as data, checked in one place."""

from annotator.projects.models import Role

# Each capability lists the roles that hold it; services and views ask `role_can(role, capability)`.
CAPABILITIES: dict[str, frozenset[str]] = {
    "view": frozenset({Role.OWNER, Role.CURATOR, Role.ANNOTATOR, Role.VIEWER}),
    "annotate": frozenset({Role.OWNER, Role.CURATOR, Role.ANNOTATOR}),
    "edit_codebook": frozenset({Role.OWNER, Role.CURATOR}),
    "manage_articles": frozenset({Role.OWNER, Role.CURATOR}),
    "manage_members": frozenset({Role.OWNER}),
    "manage_project": frozenset({Role.OWNER}),
}


def role_can(role: str | None, capability: str) -> bool:
    """True when a member with `role` holds `capability` (an unknown capability is a programming error)."""
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}; known: {sorted(CAPABILITIES)}")
    return role is not None and role in CAPABILITIES[capability]


def project_create_allowed(user) -> bool:
    """Who may start a project: staff, and accounts staff gave the ``projects.add_project`` permission (in the admin,
    to the user or to a group of theirs)."""
    return bool(user is not None and user.is_authenticated and (user.is_staff or user.has_perm("projects.add_project")))
