"""Corpus API: who sees which outlets and articles (outlet-blind masking included), article filters, full-text
search, sparse fields, CSV, import batches with their error reports and the staff upload; plus a project's spans by
layer (blind mode) and its codebook history."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from annotator.annotations.models import Layer, Span
from annotator.corpus.models import ImportBatch, StoryCluster
from annotator.corpus.tasks import import_batch_task
from annotator.projects.models import Label, Role
from annotator.projects.services import label_create, membership_add
from tests.annotator.projects.factories import make_article, make_outlet, make_project, make_user
from tests.conftest import client_login

pytestmark = pytest.mark.django_db
API = "/api/v1"


def day(iso: str) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=UTC)


@pytest.fixture
def world():
    """Two projects over three outlets; `blind` is outlet-blind and `open` is not; one article outside both."""
    owner, annotator, viewer, outsider = make_user(), make_user(), make_user(), make_user()
    staff = make_user()
    staff.is_staff = True
    staff.save()
    planet, courier, herald = make_outlet("Daily Planet"), make_outlet("Courier"), make_outlet("Herald")
    planet.country, planet.language, planet.leaning = "US", "en", "left"
    planet.save()
    herald.country, herald.language = "FR", "fr"
    herald.save()
    cluster = StoryCluster.objects.create(size=2)
    a1 = make_article(text="The regime cracked down on protesters.", title="Crackdown", outlet=planet,
                      published_at=day("2024-01-10"), url="https://planet.example/1", byline="Lois Lane",
                      external_id="p1", cluster=cluster)  # fmt: skip
    a2 = make_article(text="Rebels negotiated a ceasefire at dawn.", title="Ceasefire", outlet=courier,
                      published_at=day("2024-02-05"), external_id="c1", cluster=cluster, is_wire_copy=True)  # fmt: skip
    a3 = make_article(text="Harvest festival draws crowds downtown.", title="Festival", outlet=planet,
                      published_at=day("2024-03-01"), external_id="p2")  # fmt: skip
    hidden = make_article(text="Nobody in these projects may read this.", title="Secret", outlet=herald)
    blind = make_project(owner=owner, articles=[a1, a2], annotators=[annotator], name="Blind study")
    blind.outlet_blind = True
    blind.save()
    membership_add(project=blind, user=viewer, role=Role.VIEWER, by=owner)
    open_project = make_project(owner=owner, articles=[a3], name="Open study")
    membership_add(project=open_project, user=annotator, role=Role.ANNOTATOR, by=owner)
    return {
        "owner": owner, "annotator": annotator, "viewer": viewer, "outsider": outsider, "staff": staff,
        "planet": planet, "courier": courier, "herald": herald, "a1": a1, "a2": a2, "a3": a3, "hidden": hidden,
        "blind": blind, "open": open_project, "cluster": cluster,
    }  # fmt: skip


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


class TestArticleVisibility:
    def test_staff_see_every_article_members_their_projects_outsiders_none(self, world):
        w = world
        assert ids(client_login(w["staff"]).get(f"{API}/articles/")) >= {
            w["a1"].pk,
            w["a2"].pk,
            w["a3"].pk,
            w["hidden"].pk,
        }
        assert ids(client_login(w["owner"]).get(f"{API}/articles/")) == {w["a1"].pk, w["a2"].pk, w["a3"].pk}
        assert ids(client_login(w["viewer"]).get(f"{API}/articles/")) == {w["a1"].pk, w["a2"].pk}
        assert ids(client_login(w["outsider"]).get(f"{API}/articles/")) == set()

    def test_an_article_of_another_project_is_a_404_and_anonymous_is_refused(self, world):
        assert client_login(world["viewer"]).get(f"{API}/articles/{world['a3'].pk}/").status_code == 404
        assert client_login(world["owner"]).get(f"{API}/articles/{world['hidden'].pk}/").status_code == 404
        assert Client().get(f"{API}/articles/").status_code == 403

    def test_outlet_blind_annotator_gets_null_outlet_fields_viewer_does_not(self, world):
        w = world
        masked = client_login(w["annotator"]).get(f"{API}/articles/{w['a1'].pk}/").json()
        assert masked["title"] == "Crackdown" and masked["text"] == w["a1"].text
        for field in ("outlet", "outlet_name", "url", "byline", "external_id", "metadata", "cluster_id"):
            assert masked[field] is None, field
        shown = client_login(w["viewer"]).get(f"{API}/articles/{w['a1'].pk}/").json()
        assert (shown["outlet"], shown["url"], shown["byline"]) == (
            w["planet"].slug,
            "https://planet.example/1",
            "Lois Lane",
        )
        assert shown["cluster_id"] == w["cluster"].pk
        # The annotator's other project is not outlet-blind: its article keeps its outlet.
        assert client_login(w["annotator"]).get(f"{API}/articles/{w['a3'].pk}/").json()["outlet"] == w["planet"].slug

    def test_outlet_blind_annotator_cannot_recover_outlets_with_filters_or_the_outlet_list(self, world):
        w = world
        client = client_login(w["annotator"])
        # Planet is visible through the open project, but filtering by it must not reveal the blind article a1.
        assert ids(client.get(f"{API}/articles/", {"outlet": w["planet"].slug})) == {w["a3"].pk}
        assert ids(client.get(f"{API}/articles/", {"cluster": w["cluster"].pk})) == set()
        outlets = {row["slug"] for row in client.get(f"{API}/outlets/").json()["results"]}
        assert outlets == {w["planet"].slug}
        assert client.get(f"{API}/outlets/{w['courier'].slug}/").status_code == 404
        bad = client.get(f"{API}/articles/", {"outlet": w["courier"].slug})
        assert bad.status_code == 400 and "outlet" in bad.json()["errors"]


class TestArticleFilters:
    def test_outlet_filter_takes_several_slugs(self, world):
        w, client = world, client_login(world["owner"])
        assert ids(client.get(f"{API}/articles/", {"outlet": w["courier"].slug})) == {w["a2"].pk}
        both = client.get(f"{API}/articles/", {"outlet": [w["courier"].slug, w["planet"].slug]})
        assert ids(both) == {w["a1"].pk, w["a2"].pk, w["a3"].pk}

    def test_published_after_is_inclusive_and_before_exclusive(self, world):
        w, client = world, client_login(world["owner"])
        assert ids(client.get(f"{API}/articles/", {"published_after": "2024-02-05"})) == {w["a2"].pk, w["a3"].pk}
        assert ids(client.get(f"{API}/articles/", {"published_before": "2024-02-05"})) == {w["a1"].pk}
        window = {"published_after": "2024-01-01T00:00:00Z", "published_before": "2024-03-01T00:00:00Z"}
        assert ids(client.get(f"{API}/articles/", window)) == {w["a1"].pk, w["a2"].pk}
        bad = client.get(f"{API}/articles/", {"published_after": "last tuesday"})
        assert bad.status_code == 400 and "published_after" in bad.json()["errors"]

    def test_project_filter_only_for_projects_the_user_is_in(self, world):
        w = world
        assert ids(client_login(w["owner"]).get(f"{API}/articles/", {"project": w["open"].slug})) == {w["a3"].pk}
        refused = client_login(w["viewer"]).get(f"{API}/articles/", {"project": w["open"].slug})
        assert refused.status_code == 400 and "project" in refused.json()["errors"]
        # Staff see everything, so they may filter by any project.
        assert ids(client_login(w["staff"]).get(f"{API}/articles/", {"project": w["blind"].slug})) == {
            w["a1"].pk,
            w["a2"].pk,
        }

    def test_full_text_search_in_title_and_text(self, world):
        w, client = world, client_login(world["owner"])
        assert ids(client.get(f"{API}/articles/", {"q": "ceasefire"})) == {w["a2"].pk}
        assert ids(client.get(f"{API}/articles/", {"q": "festival"})) == {w["a3"].pk}  # title and text
        assert ids(client.get(f"{API}/articles/", {"q": "regime protesters"})) == {w["a1"].pk}  # every word
        assert ids(client.get(f"{API}/articles/", {"q": "regime ceasefire"})) == set()
        assert ids(client.get(f"{API}/articles/", {"q": "Secret"})) == set()  # not in the user's projects

    def test_cluster_and_wire_copy(self, world):
        w, client = world, client_login(world["owner"])
        assert ids(client.get(f"{API}/articles/", {"cluster": w["cluster"].pk})) == {w["a1"].pk, w["a2"].pk}
        assert ids(client.get(f"{API}/articles/", {"is_wire_copy": "true"})) == {w["a2"].pk}
        assert ids(client.get(f"{API}/articles/", {"is_wire_copy": "false"})) == {w["a1"].pk, w["a3"].pk}


class TestSparseFieldsAndFormats:
    def test_lists_leave_out_the_text_unless_asked(self, world):
        client = client_login(world["owner"])
        row = client.get(f"{API}/articles/").json()["results"][0]
        assert "text" not in row and {"id", "title", "outlet", "published_at"} <= set(row)
        rows = client.get(f"{API}/articles/", {"fields": "id,text"}).json()["results"]
        assert all(set(r) == {"id", "text"} for r in rows)
        assert {r["text"] for r in rows} == {world[k].text for k in ("a1", "a2", "a3")}
        assert "text" in client.get(f"{API}/articles/{world['a1'].pk}/").json()

    def test_unknown_field_is_a_400_naming_the_choices(self, world):
        response = client_login(world["owner"]).get(f"{API}/articles/", {"fields": "id,body"})
        assert response.status_code == 400
        message = response.json()["errors"]["fields"][0]
        assert "'body'" in message and "text" in message

    def test_csv_with_sparse_fields_reads_into_pandas(self, world):
        response = client_login(world["owner"]).get(f"{API}/articles/", {"fields": "id,title,outlet", "format": "csv"})
        assert response["Content-Type"].startswith("text/csv")
        frame = pd.read_csv(io.StringIO(response.content.decode()))
        assert list(frame.columns) == ["id", "title", "outlet"]
        assert set(frame["title"]) == {"Crackdown", "Ceasefire", "Festival"}

    def test_cursor_pagination_walks_every_article_once(self, world):
        client = client_login(world["owner"])
        url, seen = f"{API}/articles/?page_size=2&ordering=id", []
        while url:
            page = client.get(url).json()
            seen += [row["id"] for row in page["results"]]
            url = page["next"]
        assert seen == sorted([world["a1"].pk, world["a2"].pk, world["a3"].pk])


class TestOutlets:
    def test_filters_and_ordering(self, world):
        client = client_login(world["staff"])
        slugs = lambda **q: [r["slug"] for r in client.get(f"{API}/outlets/", q).json()["results"]]  # noqa: E731
        assert slugs(country="us") == [world["planet"].slug]
        assert slugs(language="fr") == [world["herald"].slug]
        assert slugs(leaning="left") == [world["planet"].slug]
        names = [r["name"] for r in client.get(f"{API}/outlets/", {"ordering": "-name"}).json()["results"]]
        assert names == sorted(names, reverse=True) and len(names) >= 3

    def test_bad_ordering_is_a_400(self, world):
        response = client_login(world["staff"]).get(f"{API}/outlets/", {"ordering": "text"})
        assert response.status_code == 400 and "name" in response.json()["errors"]["ordering"][0]

    def test_members_see_outlets_of_their_articles_only(self, world):
        slugs = {r["slug"] for r in client_login(world["viewer"]).get(f"{API}/outlets/").json()["results"]}
        assert slugs == {world["planet"].slug, world["courier"].slug}
        assert client_login(world["viewer"]).get(f"{API}/outlets/{world['herald'].slug}/").status_code == 404
        assert client_login(world["staff"]).get(f"{API}/outlets/{world['herald'].slug}/").json()["country"] == "FR"


JSONL_OK = {"outlet": "Upload Gazette", "title": "Fine", "text": "A fine article.", "external_id": "u1"}


class TestImportBatches:
    def upload(self, client, name: str, body: bytes, **fields):
        return client.post(f"{API}/import-batches/create/", {"file": SimpleUploadedFile(name, body), **fields})

    def test_staff_upload_queues_the_same_import_as_the_admin_and_reports_row_errors(
        self, world, settings, tmp_path, django_capture_on_commit_callbacks
    ):
        settings.MEDIA_ROOT = tmp_path
        staff = world["staff"]
        staff.is_superuser = True
        staff.save()
        client = client_login(staff)
        body = (
            json.dumps(JSONL_OK) + "\n" + json.dumps({"outlet": "Upload Gazette", "title": "no text"}) + "\n"
        ).encode()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = self.upload(client, "../../evil name.jsonl", body)
        assert response.status_code == 202, response.content
        batch = ImportBatch.objects.get(pk=response.json()["id"])
        assert (batch.status, batch.format, batch.user, batch.source_name) == (
            "queued",
            "jsonl",
            staff,
            "evil_name.jsonl",
        )
        assert len(callbacks) == 1  # the task is queued once the row is committed
        import_batch_task(batch.pk)  # what the worker runs
        detail = client.get(f"{API}/import-batches/{batch.pk}/").json()
        assert (detail["status"], detail["created"], detail["rejected"], detail["n_errors"]) == ("succeeded", 1, 1, 1)
        assert detail["errors"][0]["line"] == 2 and "text" in detail["errors"][0]["message"]
        report = pd.read_csv(
            io.StringIO(client.get(f"{API}/import-batches/{batch.pk}/errors/?format=csv").content.decode())
        )
        assert list(report.columns) == ["source", "line", "message"] and report["line"].tolist() == [2]

    def test_bad_uploads_get_the_admin_forms_messages(self, world, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        world["staff"].is_superuser = True
        world["staff"].save()
        client = client_login(world["staff"])
        response = self.upload(client, "corpus.docx", b"PK...")
        assert response.status_code == 400 and response.json()["errors"]["format"]
        settings.IMPORT_UPLOAD_MAX_BYTES = 10
        too_big = self.upload(client, "corpus.jsonl", b"x" * 11)
        assert too_big.status_code == 400 and "upload limit" in too_big.json()["errors"]["file"][0]
        assert ImportBatch.objects.count() == 0

    def test_a_zip_of_txt_files_is_imported_for_the_outlet_given(self, world, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        world["staff"].is_superuser = True
        world["staff"].save()
        client = client_login(world["staff"])
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("press/one.txt", "Zipped title\nZipped body.")
        body = buffer.getvalue()
        refused = self.upload(client, "press.zip", body)
        assert refused.status_code == 400 and "carry no outlet" in refused.json()["errors"]["outlet"][0]
        response = self.upload(client, "press.zip", body, outlet="zip-gazette")
        assert response.status_code == 202, response.content
        batch = ImportBatch.objects.get(pk=response.json()["id"])
        assert (batch.format, batch.outlet_slug) == ("txt", "zip-gazette")
        import_batch_task(batch.pk)
        detail = client.get(f"{API}/import-batches/{batch.pk}/").json()
        assert (detail["status"], detail["created"], detail["rejected"]) == ("succeeded", 1, 0)

    def test_a_semicolon_csv_with_its_own_column_names_is_uploaded_with_a_map(self, world, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        world["staff"].is_superuser = True
        world["staff"].save()
        client = client_login(world["staff"])
        body = "\ufeffStory;Agency\nIt rained.;Wire\n".encode()
        refused = self.upload(client, "wire.csv", body, delimiter=";", column_map="story=Story")
        assert refused.status_code == 400 and "no article field" in refused.json()["errors"]["column_map"][0]
        response = self.upload(client, "wire.csv", body, delimiter=";", column_map="text=Story,outlet=Agency")
        assert response.status_code == 202, response.content
        batch = ImportBatch.objects.get(pk=response.json()["id"])
        assert (batch.delimiter, batch.column_map) == (";", {"text": "Story", "outlet": "Agency"})
        import_batch_task(batch.pk)
        batch.refresh_from_db()
        assert (batch.status, batch.created_count) == ("succeeded", 1)

    def test_preview_reads_the_head_and_writes_nothing(self, world):
        world["staff"].is_superuser = True
        world["staff"].save()
        client = client_login(world["staff"])
        rows = "".join(f"Story {i}, with a comma;Daily Planet;2024-05-0{i}\n" for i in range(1, 10))
        head = ("body;source;date\n" + rows).encode("utf-16")
        response = client.post(
            f"{API}/import-batches/preview/",
            {"file": SimpleUploadedFile("big.csv", head[:-7]), "size": str(10**9)},
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["encoding"], body["delimiter"], body["delimiter_detected"], body["complete"]) == (
            "utf-16", ";", True, False,
        )  # fmt: skip
        assert [(c["name"], c["field"]) for c in body["columns"]] == [
            ("body", "text"), ("source", "outlet"), ("date", "published_at"),
        ]  # fmt: skip
        assert [row["line"] for row in body["rows"]] == list(range(2, 10))  # the cut 9th row is left out
        assert body["rows"][0]["fields"]["text"] == "Story 1, with a comma"
        assert body["rows"][0]["fields"]["published_at"] == "2024-05-01T00:00:00+00:00"
        refused = client.post(
            f"{API}/import-batches/preview/", {"file": SimpleUploadedFile("a.csv", b"title,source\nx,y\n")}
        )
        assert refused.status_code == 400 and "no text column" in refused.json()["detail"]
        assert (
            client_login(world["owner"])
            .post(f"{API}/import-batches/preview/", {"file": SimpleUploadedFile("a.csv", b"text\nx\n")})
            .status_code
            == 403
        )
        assert ImportBatch.objects.count() == 0

    def test_only_staff_may_upload(self, world, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        response = self.upload(client_login(world["owner"]), "corpus.jsonl", json.dumps(JSONL_OK).encode())
        assert response.status_code == 403 and "staff" in response.json()["detail"]
        assert ImportBatch.objects.count() == 0

    def test_staff_list_every_batch_others_only_their_own(self, world):
        mine = ImportBatch.objects.create(source_name="mine.jsonl", format="jsonl", user=world["owner"])
        other = ImportBatch.objects.create(source_name="other.csv", format="csv", user=world["staff"])
        assert ids(client_login(world["staff"]).get(f"{API}/import-batches/")) == {mine.pk, other.pk}
        assert ids(client_login(world["owner"]).get(f"{API}/import-batches/")) == {mine.pk}
        assert client_login(world["owner"]).get(f"{API}/import-batches/{other.pk}/").status_code == 404
        assert client_login(world["viewer"]).get(f"{API}/import-batches/{mine.pk}/errors/").status_code == 404


class TestProjectAnnotations:
    @pytest.fixture
    def spans(self, world):
        w = world
        project = w["blind"]
        curator = make_user()
        membership_add(project=project, user=curator, role=Role.CURATOR, by=w["owner"])
        label = Label.objects.get(project=project, name="loaded term")

        def span(user, layer, article, word):
            start = article.text.index(word)
            return Span.objects.create(project=project, article=article, layer=layer, label=label, annotator=user,
                                       start_char=start, end_char=start + len(word), text=word)  # fmt: skip

        mine = span(w["annotator"], Layer.ANNOTATOR, w["a1"], "regime")
        theirs = span(curator, Layer.ANNOTATOR, w["a1"], "cracked")
        gold = span(None, Layer.GOLD, w["a2"], "Rebels")
        return {
            "curator": curator,
            "mine": mine,
            "theirs": theirs,
            "gold": gold,
            "url": f"{API}/projects/{project.slug}/annotations/",
        }

    def test_blind_annotator_sees_only_own_spans_without_outlets(self, world, spans):
        client = client_login(world["annotator"])
        page = client.get(spans["url"]).json()["results"]
        assert [r["id"] for r in page] == [spans["mine"].pk] and page[0]["outlet"] is None
        refused = client.get(spans["url"], {"layer": "gold"})
        assert refused.status_code == 403 and "blind" in refused.json()["detail"]

    def test_curator_sees_layers_and_filters(self, world, spans):
        client = client_login(spans["curator"])
        assert ids(client.get(spans["url"])) == {spans["mine"].pk, spans["theirs"].pk, spans["gold"].pk}
        gold = client.get(spans["url"], {"layer": "gold"}).json()["results"]
        assert [(r["id"], r["layer"], r["outlet"]) for r in gold] == [(spans["gold"].pk, "gold", world["courier"].slug)]
        one = client.get(spans["url"], {"annotator": world["annotator"].username})
        assert ids(one) == {spans["mine"].pk}
        assert ids(client.get(spans["url"], {"article": world["a2"].pk})) == {spans["gold"].pk}
        assert client.get(spans["url"], {"label": "nope"}).status_code == 400
        csv = pd.read_csv(io.StringIO(client.get(spans["url"], {"format": "csv"}).content.decode()))
        assert set(csv["text"]) == {"regime", "cracked", "Rebels"}

    def test_non_members_get_404(self, world, spans):
        assert client_login(world["outsider"]).get(spans["url"]).status_code == 404


class TestCodebookVersions:
    def test_versions_with_changelog_and_snapshot(self, world):
        project = world["open"]
        label_create(project=project, name="euphemism-2", by=world["owner"], changelog="Added a second euphemism.")
        url = f"{API}/projects/{project.slug}/codebook/versions/"
        versions = client_login(world["annotator"]).get(url).json()
        assert [v["number"] for v in versions] == list(range(1, len(versions) + 1))
        latest = versions[-1]
        assert latest["changelog"] == "Added a second euphemism." and latest["created_by"] == world["owner"].username
        assert "euphemism-2" in {label["name"] for label in latest["labels"]} and latest["n_labels"] == len(
            latest["labels"]
        )
        detail = client_login(world["annotator"]).get(f"{url}{latest['number']}/").json()
        assert detail == latest
        assert client_login(world["annotator"]).get(f"{url}999/").status_code == 404
        assert client_login(world["outsider"]).get(url).status_code == 404
