"""The owner's settings page: settings, codebook editor, members, adding articles; owners only; CSRF."""

import datetime as dt

import pytest
from django.test import Client

from annotator.annotations.models import Span
from annotator.annotations.services import span_create
from annotator.projects.models import CodebookVersion, Label, Membership, Project, Role
from tests.annotator.projects.factories import grant_outlets, make_article, make_outlet, make_project, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    owner, ann = make_user(), make_user()
    article = make_article(text="Troops liberate the town.")
    project = make_project(owner=owner, articles=[article], annotators=[ann])
    client = Client()
    client.force_login(owner)
    return project, article, owner, ann, client


def url(project):
    return f"/projects/{project.slug}/settings/"


def post(client, project, **data):
    response = client.post(url(project), data, follow=True)
    assert response.status_code == 200
    return response, [str(m) for m in response.context["messages"]]


SETTINGS = {
    "action": "settings", "name": "Renamed study", "description": "d", "guidelines": "# G",
    "annotators_per_article": "3", "overlap_fraction": "0.25", "blind": "on", "outlet_blind": "on",
    "snap_to_words": "on", "stratify_by": ["outlet", "month"], "calibration_size": "5",
    "training_source": "all", "syndication_rule": "once", "bootstrap_resamples": "2000",
    "time_zone": "America/Chicago",
}  # fmt: skip


def test_only_owners_see_and_use_the_page(world):
    project, _, _, ann, client = world
    assert client.get(url(project)).status_code == 200
    annotator_client = Client()
    annotator_client.force_login(ann)
    assert annotator_client.get(url(project)).status_code == 403
    assert annotator_client.post(url(project), SETTINGS).status_code == 403
    stranger = Client()
    stranger.force_login(make_user())
    assert stranger.get(url(project)).status_code == 404
    project.refresh_from_db()
    assert project.name != "Renamed study"


def test_settings_are_saved_and_validated(world):
    project, _, _, _, client = world
    _, msgs = post(client, project, **SETTINGS)
    assert msgs == ["Settings saved."]
    project.refresh_from_db()
    assert (project.name, project.annotators_per_article, project.overlap_fraction) == ("Renamed study", 3, 0.25)
    assert project.outlet_blind and project.blind and not project.one_per_cluster
    assert project.stratify_by == ["outlet", "month"] and project.calibration_size == 5
    assert (project.training_source, project.syndication_rule, project.bootstrap_resamples) == ("all", "once", 2000)
    assert project.time_zone == "America/Chicago"
    _, msgs = post(client, project, **{**SETTINGS, "time_zone": "Central Time"})
    assert len(msgs) == 1 and msgs[0].startswith("Not saved.") and "Time zone of periods" in msgs[0]
    _, msgs = post(client, project, **{**SETTINGS, "overlap_fraction": "1.5", "bootstrap_resamples": "5"})
    assert len(msgs) == 1 and msgs[0].startswith("Not saved.") and "Overlap" in msgs[0] and "resamples" in msgs[0]
    project.refresh_from_db()
    assert project.overlap_fraction == 0.25


def test_csrf_is_required():
    owner = make_user()
    project = make_project(owner=owner)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(url(project), SETTINGS).status_code == 403


def test_codebook_editor_makes_versions_and_refuses_unsafe_delete(world):
    project, article, owner, ann, client = world
    before = CodebookVersion.objects.filter(project=project).count()
    _, msgs = post(
        client, project, action="label_save", name="dehumanising", colour="#112233", hotkey="6",
        description="Likens people to animals or vermin.", positive_examples="infestation\nswarm", negative_examples="crowd",
    )  # fmt: skip
    assert "added" in msgs[0]
    label = Label.objects.get(project=project, name="dehumanising")
    assert (label.hotkey, label.positive_examples, label.negative_examples) == (
        "6",
        ["infestation", "swarm"],
        ["crowd"],
    )
    loaded = Label.objects.get(project=project, name="loaded term")
    _, msgs = post(
        client, project, action="label_save", label_id=str(loaded.pk), name="loaded word", colour="#abcdef",
        hotkey="1", parent=str(label.pk), description=loaded.description, changelog="Clearer name.",
    )  # fmt: skip
    loaded.refresh_from_db()
    assert (loaded.name, loaded.colour, loaded.parent_id) == ("loaded word", "#abcdef", label.pk)
    latest = CodebookVersion.objects.filter(project=project).order_by("-number").first()
    assert latest.changelog == "Clearer name." and latest.number == before + 2
    # Duplicate hotkey: refused with the field named.
    _, msgs = post(client, project, action="label_save", name="other", colour="#000000", hotkey="6")
    assert msgs[0].startswith("Not saved.") and "hotkey" in msgs[0]
    # Delete a used label without a merge target: refused; with one: spans move.
    euph = Label.objects.get(project=project, name="euphemism")
    span, _ = span_create(project=project, article=article, user=ann, label_id=euph.pk, start_char=0, end_char=6,
                          text="Troops")  # fmt: skip
    _, msgs = post(client, project, action="label_delete", label_id=str(euph.pk))
    assert "used by 1 span" in msgs[0] and Label.objects.filter(pk=euph.pk).exists()
    _, msgs = post(client, project, action="label_delete", label_id=str(euph.pk), merge_into=str(label.pk))
    assert "1 span(s) moved" in msgs[0]
    assert Span.objects.get(pk=span.pk).label_id == label.pk
    # A label of another project cannot be touched through this page.
    foreign = Label.objects.filter(project=make_project(owner=owner)).first()
    _, msgs = post(client, project, action="label_delete", label_id=str(foreign.pk))
    assert msgs[0].startswith("Not saved.") and Label.objects.filter(pk=foreign.pk).exists()


def test_members_add_change_remove_and_last_owner_kept(world):
    project, _, owner, ann, client = world
    newbie = make_user()
    _, msgs = post(client, project, action="member_add", people=newbie.username, role="curator")
    assert Membership.objects.get(project=project, user=newbie).role == Role.CURATOR
    _, msgs = post(client, project, action="member_add", people="nobody-here", role="annotator")
    assert "line 1: nobody-here: no account with this username." in msgs[0]
    m = Membership.objects.get(project=project, user=ann)
    post(client, project, action="member_role", membership_id=str(m.pk), role="viewer")
    assert Membership.objects.get(pk=m.pk).role == Role.VIEWER
    post(client, project, action="member_remove", membership_id=str(m.pk))
    assert not Membership.objects.filter(pk=m.pk).exists()
    own = Membership.objects.get(project=project, user=owner)
    _, msgs = post(client, project, action="member_remove", membership_id=str(own.pk))
    assert "at least one owner" in msgs[0] and Membership.objects.filter(pk=own.pk).exists()


def test_a_team_in_one_step_by_usernames_and_emails_all_or_none(world):
    project, _, owner, ann, client = world
    ana, ben, cleo = make_user("ana"), make_user("ben"), make_user("cleo")
    ben.email = "Ben@Example.org"
    ben.save()
    shared_a, shared_b = make_user(), make_user()
    for user in (shared_a, shared_b):
        user.email = "lab@example.org"
        user.save()
    _, msgs = post(client, project, action="member_add", role="annotator",
                   people="ana\nben@example.org, ghost\n<lab@example.org>; cleo\nnobody@example.org")  # fmt: skip
    assert msgs[0].startswith("Not saved. No one was added: 3 name(s)")
    assert "line 2: ghost: no account with this username." in msgs[0]
    assert "line 3: lab@example.org: 2 accounts have this e-mail; give the username instead." in msgs[0]
    assert "line 4: nobody@example.org: no account with this username or e-mail." in msgs[0]
    assert not Membership.objects.filter(project=project, user__in=[ana, ben, cleo]).exists()
    _, msgs = post(client, project, action="member_add", role="annotator",
                   people=f"ana\nBEN@example.org, cleo\n{ann.username}\nana")  # fmt: skip
    assert msgs[0] == f"Added as annotator 3: ana, ben, cleo. Already annotator 1: {ann.username}."
    assert set(Membership.objects.filter(project=project, role=Role.ANNOTATOR).values_list("user__username", flat=True)) == {
        "ana", "ben", "cleo", ann.username}  # fmt: skip
    _, msgs = post(client, project, action="member_add", role="curator", people="ana")
    assert msgs[0] == "Now curator 1: ana."


def test_add_articles_by_outlet_dates_search_and_ids(world):
    project, _, _, _, client = world
    outlet = make_outlet("Wire")
    day = dt.datetime(2024, 3, 5, tzinfo=dt.UTC)
    a1 = make_article(text="Regime forces advanced.", outlet=outlet, published_at=day)
    a2 = make_article(text="Rebels held the bridge.", outlet=outlet, published_at=day + dt.timedelta(days=40))
    a3 = make_article(text="Unrelated weather.", published_at=day)
    grant_outlets(project, [a1, a3])
    _, msgs = post(client, project, action="articles_add", outlet=outlet.slug, published_from="2024-03-01",
                   published_to="2024-03-31")  # fmt: skip
    assert msgs == ["1 new article(s) added."]
    _, msgs = post(client, project, action="articles_add", search="bridge")
    assert msgs == ["1 new article(s) added."]
    _, msgs = post(client, project, action="articles_add", article_ids=f"{a3.pk}, {a1.pk}")
    assert msgs == ["1 new article(s) added."]
    assert set(Project.objects.get(pk=project.pk).articles.values_list("pk", flat=True)) >= {a1.pk, a2.pk, a3.pk}
    for bad, expect in [({"article_ids": "1, x"}, "whole numbers"), ({"article_ids": "999999"}, "not in the corpus"),
                        ({}, "at least one filter"), ({"published_from": "2024-05-01", "published_to": "2024-04-01"},
                        "before the start")]:  # fmt: skip
        _, msgs = post(client, project, action="articles_add", **bad)
        assert msgs[0].startswith("Not saved.") and expect in msgs[0], msgs
    _, msgs = post(client, project, action="articles_add", outlet="no-such")
    assert msgs == ["No new articles matched (already in the project, or none found)."]


def test_the_settings_page_offers_and_adds_only_what_staff_granted(world):
    """Issue 17, point 5: the page lists only granted outlets and adds nothing else, by id, outlet or search."""
    project, _, _, _, client = world
    secret = make_outlet("Secret Outlet Times")
    hidden = make_article(text="Troops liberate the secret city.", outlet=secret)
    page = client.get(url(project)).content.decode()
    assert "Secret Outlet Times" not in page and secret.slug not in page
    for data in ({"article_ids": str(hidden.pk)}, {"outlet": secret.slug}, {"search": "secret city"}):
        post(client, project, action="articles_add", **data)
    assert not Project.objects.get(pk=project.pk).articles.filter(pk=hidden.pk).exists()
    _, msgs = post(client, project, **{**SETTINGS, "follow_outlets": [secret.slug]})
    assert msgs[0].startswith("Not saved.") and "Take new imports from" in msgs[0], msgs


def test_settings_link_only_for_owners(world):
    project, _, _, ann, client = world
    assert 'data-testid="settings-link"' in client.get(f"/projects/{project.slug}/").content.decode()
    other = Client()
    other.force_login(ann)
    assert 'data-testid="settings-link"' not in other.get(f"/projects/{project.slug}/").content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_owner_edits_codebook_in_browser_and_annotator_sees_and_dismisses_the_change(page, live_server, screenshot):
    import datetime as _dt

    from django.utils import timezone

    from tests.annotator.projects.factories import PASSWORD
    from tests.conftest import browser_login

    owner, ann = make_user("set-owner"), make_user("set-ann")
    article = make_article(text="Troops liberate the town.")
    project = make_project(owner=owner, articles=[article], annotators=[ann], name="Settings study")
    label = Label.objects.filter(project=project).first()
    span_create(project=project, article=article, user=ann, label_id=label.pk, start_char=0, end_char=6, text="Troops")
    Span.objects.update(updated_at=timezone.now() - _dt.timedelta(minutes=5))
    CodebookVersion.objects.update(created_at=timezone.now() - _dt.timedelta(hours=1))
    browser_login(page, live_server, owner.username, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.slug}/")
    page.click("[data-testid=settings-link]")
    page.fill("[data-testid=label-add] input[name=name]", "dehumanising")
    page.fill("[data-testid=label-add] input[name=hotkey]", "6")
    page.fill("[data-testid=label-add] textarea[name=description]", "Likens people to animals.")
    page.fill("[data-testid=label-add] textarea[name=positive_examples]", "infestation\nswarm")
    page.click("[data-testid=label-add] button[type=submit]")
    assert "Label 'dehumanising' added" in page.inner_text(".messages")
    assert Label.objects.get(project=project, name="dehumanising").positive_examples == ["infestation", "swarm"]
    page.fill("[data-testid=member-add] textarea[name=people]", "no-such-person")
    page.click("[data-testid=member-add] button[type=submit]")
    assert "line 1: no-such-person: no account with this username." in page.inner_text(".messages")
    screenshot("project-settings")
    page.context.clear_cookies()
    browser_login(page, live_server, ann.username, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.slug}/")
    page.wait_for_selector("[data-testid=codebook-changes]:not([hidden])")
    assert "Added label 'dehumanising'" in page.inner_text("[data-testid=codebook-changes]")
    page.click("[data-testid=codebook-changes] [data-dismiss]")
    assert page.is_hidden("[data-testid=codebook-changes]")
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.is_hidden("[data-testid=codebook-changes]")  # dismissed until a newer version appears
