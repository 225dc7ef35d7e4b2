"""Role-based access to projects: one hierarchy, one lookup, DRF permission classes defined by data.

The hierarchy is owner > curator > annotator > viewer: a role grants everything the roles below it grant.
Membership is the existence check: a non-member is told the project does not exist (404), a member below
the required role is told they may not (403). The lookup itself is `projects.selectors.project_get_for_user`;
this module adds the ranking and the DRF glue.

    permission_classes = [IsProjectCurator | (IsProjectViewer & ReadOnly)]

Views take the project from the URL keyword `slug` (set `project_lookup_kwarg` on the view to change it) and
can fetch it again without a query with `project_from_request(request, view)`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from annotator.projects.models import Project, Role
from annotator.projects.selectors import project_get_for_user

# Highest first. The rank of a role is its distance from the bottom.
ROLE_HIERARCHY: tuple[str, ...] = (Role.OWNER, Role.CURATOR, Role.ANNOTATOR, Role.VIEWER)
ROLE_RANK: dict[str, int] = {role: len(ROLE_HIERARCHY) - index for index, role in enumerate(ROLE_HIERARCHY)}

_REQUEST_CACHE_ATTR = "_framescope_project_roles"


def role_rank(role: str | None) -> int:
    """0 for no role; otherwise higher means more rights. An unknown role is a programming error."""
    if role is None:
        return 0
    try:
        return ROLE_RANK[role]
    except KeyError:
        raise ValueError(f"unknown role {role!r}; known roles: {', '.join(ROLE_HIERARCHY)}") from None


def role_at_least(role: str | None, min_role: str) -> bool:
    """True when `role` is `min_role` or above it in the hierarchy."""
    return role_rank(role) >= role_rank(min_role)


def project_and_role_for_user(*, user: Any, slug: str) -> tuple[Project, str]:
    """(project, role) for a member; Http404 for non-members and anonymous users."""
    return project_get_for_user(slug=slug, user=user)


def project_for_user_or_404(*, user: Any, slug: str, min_role: str | None = None) -> Project:
    """The project if the user is a member with at least `min_role`.

    Non-members get Http404 (they cannot tell a private project from a missing one); members below
    `min_role` get PermissionDenied (403). The user's role is attached as `project.user_role`.
    """
    if min_role is not None:
        role_rank(min_role)  # fail loudly on a typo before touching the database
    project, role = project_and_role_for_user(user=user, slug=slug)
    if min_role is not None and not role_at_least(role, min_role):
        raise PermissionDenied(f"This needs the {min_role} role or above in the project; you are {role}.")
    project.user_role = role  # type: ignore[attr-defined]
    return project


def _cached_project_and_role(request: Any, slug: str) -> tuple[Project, str]:
    cache: dict[str, tuple[Project, str]] = getattr(request, _REQUEST_CACHE_ATTR, None) or {}
    if slug not in cache:
        cache[slug] = project_and_role_for_user(user=request.user, slug=slug)
        setattr(request, _REQUEST_CACHE_ATTR, cache)
    return cache[slug]


def project_from_request(request: Any, view: Any) -> Project:
    """The project named in the view's URL, looked up once per request (Http404 for non-members)."""
    kwarg = getattr(view, "project_lookup_kwarg", "slug")
    slug = view.kwargs.get(kwarg)
    if slug is None:
        raise LookupError(f"{type(view).__name__} has no URL keyword {kwarg!r}; set project_lookup_kwarg.")
    project, role = _cached_project_and_role(request, slug)
    project.user_role = role  # type: ignore[attr-defined]
    return project


class HasProjectRole(BasePermission):
    """Allow members whose role is at least `min_role`; reads may need only `safe_min_role`.

    Subclasses differ only by these attributes. Composable with `&`, `|` and `~` like any DRF permission.
    Anonymous users are refused (401/403 by DRF); non-members get 404; objects carrying a `project_id` from
    another project get 404 too.
    """

    min_role: str = Role.VIEWER
    safe_min_role: str | None = None

    def required_role(self, request: Any) -> str:
        if request.method in SAFE_METHODS and self.safe_min_role is not None:
            return self.safe_min_role
        return self.min_role

    @property
    def message(self) -> str:  # DRF reads this when has_permission returns False
        return getattr(self, "_message", "You do not have the required role in this project.")

    def has_permission(self, request: Any, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        project = project_from_request(request, view)
        required = self.required_role(request)
        if role_at_least(project.user_role, required):
            return True
        self._message = f"This needs the {required} role or above in the project; you are {project.user_role}."
        return False

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        project_id = getattr(obj, "project_id", None)
        if project_id is not None and project_id != project_from_request(request, view).pk:
            from django.http import Http404

            raise Http404("No such object in this project.")
        return True


class IsProjectViewer(HasProjectRole):
    min_role = Role.VIEWER


class IsProjectAnnotator(HasProjectRole):
    min_role = Role.ANNOTATOR


class IsProjectCurator(HasProjectRole):
    min_role = Role.CURATOR


class IsProjectOwner(HasProjectRole):
    min_role = Role.OWNER


class IsProjectMemberReadCuratorWrite(HasProjectRole):
    """Any member may read; curators and owners may change."""

    min_role = Role.CURATOR
    safe_min_role = Role.VIEWER


class ReadOnly(BasePermission):
    """Only GET, HEAD and OPTIONS: combine with a role, e.g. `IsProjectViewer & ReadOnly`."""

    message = "This endpoint is read-only for your role."

    def has_permission(self, request: Any, view: Any) -> bool:
        return request.method in SAFE_METHODS


def project_role_permission(name: str, *, min_role: str, safe_min_role: str | None = None) -> type[HasProjectRole]:
    """Build a role permission class from data, e.g. `project_role_permission("X", min_role="curator")`."""
    role_rank(min_role)
    if safe_min_role is not None:
        role_rank(safe_min_role)
    return type(name, (HasProjectRole,), {"min_role": min_role, "safe_min_role": safe_min_role})
