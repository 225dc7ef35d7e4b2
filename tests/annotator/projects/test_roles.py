"""Role helpers: the hierarchy, project_for_user_or_404 and DRF role permissions composed with & and |."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from annotator.projects.models import Label, Membership, Project, Role
from annotator.projects.roles import (
    IsProjectAnnotator,
    IsProjectCurator,
    IsProjectMemberReadCuratorWrite,
    IsProjectOwner,
    IsProjectViewer,
    ReadOnly,
    project_for_user_or_404,
    project_role_permission,
    role_at_least,
)
from annotator.projects.selectors import membership_role, project_get_for_user

pytestmark = pytest.mark.django_db
ROLES = [Role.OWNER, Role.CURATOR, Role.ANNOTATOR, Role.VIEWER]


class ProbeApi(APIView):
    def get(self, request, slug):
        return Response({"ok": True})

    def post(self, request, slug):
        return Response({"ok": True})


class CuratorOnlyApi(ProbeApi):
    permission_classes = [IsProjectCurator]


class CuratorOrReadingViewerApi(ProbeApi):
    permission_classes = [IsProjectCurator | (IsProjectViewer & ReadOnly)]


class MemberReadCuratorWriteApi(ProbeApi):
    permission_classes = [IsProjectMemberReadCuratorWrite]


class LabelDetailApi(APIView):
    permission_classes = [IsProjectViewer]
    project_lookup_kwarg = "project_slug"

    def get(self, request, project_slug, label_id):
        label = Label.objects.get(pk=label_id)
        self.check_object_permissions(request, label)
        return Response({"name": label.name})


urlpatterns = [
    path("p/<slug:slug>/curator/", CuratorOnlyApi.as_view()),
    path("p/<slug:slug>/mixed/", CuratorOrReadingViewerApi.as_view()),
    path("p/<slug:slug>/member-read/", MemberReadCuratorWriteApi.as_view()),
    path("p/<slug:project_slug>/labels/<int:label_id>/", LabelDetailApi.as_view()),
]


@pytest.fixture
def world(django_user_model):
    project = Project.objects.create(name="Study", slug="study")
    other = Project.objects.create(name="Other", slug="other")
    users = {}
    for role in ROLES:
        users[role] = django_user_model.objects.create_user(role)
        Membership.objects.create(project=project, user=users[role], role=role)
    users["outsider"] = django_user_model.objects.create_user("outsider")
    Membership.objects.create(project=other, user=users["outsider"], role=Role.OWNER)
    return project, other, users


def assert_fetch(user, method: str, url: str, expected: int) -> None:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    response = getattr(client, method)(url)
    assert response.status_code == expected, (getattr(user, "username", None), method, url, response.content)


def test_hierarchy():
    assert role_at_least(Role.OWNER, Role.CURATOR)
    assert role_at_least(Role.CURATOR, Role.CURATOR)
    assert not role_at_least(Role.ANNOTATOR, Role.CURATOR)
    assert not role_at_least(None, Role.VIEWER)
    with pytest.raises(ValueError, match="unknown role 'admin'"):
        role_at_least("admin", Role.VIEWER)


def test_project_for_user_or_404(world):
    project, _, users = world
    assert project_for_user_or_404(user=users[Role.VIEWER], slug="study") == project
    found = project_for_user_or_404(user=users[Role.CURATOR], slug="study", min_role=Role.CURATOR)
    assert found.user_role == Role.CURATOR
    with pytest.raises(PermissionDenied, match="needs the curator role or above.*you are annotator"):
        project_for_user_or_404(user=users[Role.ANNOTATOR], slug="study", min_role=Role.CURATOR)
    with pytest.raises(Http404):
        project_for_user_or_404(user=users["outsider"], slug="study")
    with pytest.raises(Http404):
        project_for_user_or_404(user=users[Role.OWNER], slug="missing")
    with pytest.raises(ValueError, match="unknown role"):
        project_for_user_or_404(user=users[Role.OWNER], slug="study", min_role="boss")


def test_project_get_for_user_reads_the_whole_project_and_remembers_the_role(world, django_assert_num_queries):
    project, _, users = world
    Project.objects.filter(pk=project.pk).update(stratify_by=["outlet", "month"], follow_outlets=[3], blind=False)
    with django_assert_num_queries(1):
        found, role = project_get_for_user(slug="study", user=users[Role.CURATOR])
        assert membership_role(project=found, user=users[Role.CURATOR]) == role == Role.CURATOR  # remembered
    expected = Project.objects.get(pk=project.pk)
    for f in Project._meta.concrete_fields:  # every column, JSON decoded and datetimes aware on both backends
        assert getattr(found, f.attname) == getattr(expected, f.attname), f.name
    assert not hasattr(found, "member_role_") and found._state.db == expected._state.db and not found._state.adding
    for user, slug in ((users["outsider"], "study"), (users[Role.OWNER], "missing"), (AnonymousUser(), "study")):
        with pytest.raises(Http404):
            project_get_for_user(slug=slug, user=user)


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.OWNER, 200), (Role.CURATOR, 200), (Role.ANNOTATOR, 403), (Role.VIEWER, 403), ("outsider", 404)],
)
def test_role_matrix_for_curator_permission(world, role, expected):
    _, _, users = world
    assert_fetch(users[role], "get", "/p/study/curator/", expected)


@pytest.mark.urls(__name__)
def test_forbidden_message_names_the_role(world):
    _, _, users = world
    client = APIClient()
    client.force_authenticate(users[Role.ANNOTATOR])
    response = client.get("/p/study/curator/")
    assert response.json()["detail"] == "This needs the curator role or above in the project; you are annotator."


@pytest.mark.urls(__name__)
def test_anonymous_and_missing_project(world):
    _, _, users = world
    assert_fetch(None, "get", "/p/study/curator/", 403)
    assert_fetch(users[Role.OWNER], "get", "/p/nope/curator/", 404)


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("url", ["/p/study/mixed/", "/p/study/member-read/"])
@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        (Role.OWNER, 200, 200),
        (Role.CURATOR, 200, 200),
        (Role.ANNOTATOR, 200, 403),
        (Role.VIEWER, 200, 403),
        ("outsider", 404, 404),
    ],
)
def test_composed_and_attribute_defined_permissions_agree(world, url, role, read, write):
    _, _, users = world
    assert_fetch(users[role], "get", url, read)
    assert_fetch(users[role], "post", url, write)


@pytest.mark.urls(__name__)
def test_objects_of_another_project_are_404(world):
    project, other, users = world
    mine = Label.objects.create(project=project, name="Loaded")
    theirs = Label.objects.create(project=other, name="Secret")
    assert_fetch(users[Role.VIEWER], "get", f"/p/study/labels/{mine.pk}/", 200)
    assert_fetch(users[Role.VIEWER], "get", f"/p/study/labels/{theirs.pk}/", 404)


def test_permission_classes_built_from_data():
    cls = project_role_permission("CanAnnotateOrRead", min_role=Role.ANNOTATOR, safe_min_role=Role.VIEWER)
    assert issubclass(cls, IsProjectAnnotator.__mro__[1])
    assert (cls.min_role, cls.safe_min_role) == (Role.ANNOTATOR, Role.VIEWER)
    assert IsProjectOwner.min_role == Role.OWNER
    with pytest.raises(ValueError, match="unknown role"):
        project_role_permission("Bad", min_role="root")


@pytest.mark.urls(__name__)
def test_membership_is_looked_up_once_per_request(world, django_assert_max_num_queries):
    _, _, users = world
    client = APIClient()
    client.force_authenticate(users[Role.VIEWER])
    with django_assert_max_num_queries(1):  # the OR of two role permissions shares one membership query
        assert client.get("/p/study/mixed/").status_code == 200
