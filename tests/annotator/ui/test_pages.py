"""Server-rendered pages: home lists my projects, project page (queue, sanitised guidelines), annotator page."""

import json

import pytest

from tests.annotator.projects.factories import make_article, make_project, make_user
from tests.conftest import client_login

pytestmark = pytest.mark.django_db


def test_home_lists_only_my_projects():
    me = make_user()
    mine = make_project(annotators=[me], name="Mine")
    theirs = make_project(name="Theirs")
    html = client_login(me).get("/").content.decode()
    assert mine.name in html and theirs.name not in html


def test_project_page_renders_sanitised_guidelines_and_queue():
    me = make_user()
    article = make_article(text="words", title="First story")
    project = make_project(annotators=[me], articles=[article])
    project.guidelines = '## Rules\n\n*Mark* words.<script>alert(1)</script><a href="javascript:x">x</a>'
    project.save()
    response = client_login(me).get(f"/projects/{project.slug}/")
    html = response.content.decode()
    assert "<h2>Rules</h2>" in html and "<em>Mark</em>" in html
    assert "<script>alert(1)</script>" not in html and "javascript:x" not in html
    assert "First story" in html and "0 of 1 done" in html
    assert client_login(make_user()).get(f"/projects/{project.slug}/").status_code == 404


def test_annotate_page_embeds_text_as_json_and_escapes_html():
    me = make_user()
    text = "</script><script>alert(1)</script> \r\n 👍🏽"
    article = make_article(text=text, title="<i>t</i>")
    project = make_project(annotators=[me], articles=[article])
    response = client_login(me).get(f"/projects/{project.slug}/articles/{article.pk}/")
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;i&gt;t&lt;/i&gt;" in html
    config = json.loads(
        response.content.decode().split('id="annotator-config" type="application/json">')[1].split("</script>")[0]
    )
    assert config["text"] == text
    assert [label["hotkey"] for label in config["labels"]] == ["1", "2", "3", "4", "5"]
    assert response.cookies["csrftoken"].value
    other = make_article(text="not in project")
    assert client_login(me).get(f"/projects/{project.slug}/articles/{other.pk}/").status_code == 404
    assert (
        client_login(me).get(f"/projects/{project.slug}/next/").url
        == f"/projects/{project.slug}/articles/{article.pk}/"
    )
