"""A web process imports scikit-learn, SciPy and pandas only where a request needs them (docs/benchmarks.md, Lean
processes): loading the URL conf and every view module, as a web worker does before its first request, pulls in none
of them. NumPy is allowed: ~10 MiB, and the scores pages need it anyway.

The annotator page and its *Pre-fill from the model* read the answers the scoring run stored (scoring.PredictedAnswers):
serving both, with an active version that predicts a question, imports none of them either. The code scores and their
comparison compute intervals on request (scipy.special's quantiles), but never load the classifiers (scikit-learn)."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import annotator.api.views
import annotator.ui

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("sklearn", "scipy", "pandas", "statsmodels", "datasketch")
#: What the statistics computed on request may load: scipy.special, not the rest.
MODELS = ("sklearn", "scipy.stats", "pandas", "statsmodels", "datasketch")

#: Run after the start-up check, in the same process: a database of its own, an active version that predicts one
#: question (its artefact directory is empty: nothing may load it), its stored answers on one article, then the
#: annotator page and the pre-fill as the owner.
SERVE_PREFILL = """
from django.core.management import call_command
from django.test import Client
call_command("migrate", verbosity=0)
from annotator.common.models import JobStatus
from annotator.projects.models import Question
from annotator.scoring.models import PredictedAnswers
from annotator.training.models import ModelVersion
from tests.annotator.projects.factories import make_article, make_project, make_user
owner = make_user("owner")
article = make_article(text="Officials said the regime attacked the town. Residents waited.")
project = make_project(owner=owner, articles=[article])
question = Question.objects.create(project=project, name="tone", prompt="Tone?", kind=Question.Kind.SINGLE)
version = ModelVersion.objects.create(
    project=project, number=1, status=JobStatus.SUCCEEDED, is_active=True, artefact_path=artefact_dir,
    metrics={"codes": {"tone": {"scope": "article"}}},
)
PredictedAnswers.objects.create(model_version=version, article=article, answers=[[question.pk, None, None, "hostile", 0.9]])
client = Client(SERVER_NAME="localhost")  # the test client's testserver is no allowed host here
client.force_login(owner)
page = client.get(f"/projects/{project.slug}/articles/{article.pk}/")
assert page.status_code == 200 and b"answers/predicted/" in page.content, page.status_code
body = client.get(f"/api/v1/projects/{project.slug}/articles/{article.pk}/answers/predicted/").json()
assert body == {"model_version": 1, "answers": [{"question_id": question.pk, "start_char": None, "end_char": None,
                "value": "hostile", "score": 0.9, "scores": None}]}, body
"""

#: Then, in the same process: the code scores of the gold answers and their comparison between outlets.
SERVE_CODE_SCORES = """
from annotator.annotations.models import Answer, Layer
from annotator.projects.models import QuestionOption
from annotator.projects.services import project_add_articles
for value in ("hostile", "neutral"):
    QuestionOption.objects.create(question=question, value=value, text=value)
from tests.annotator.projects.factories import make_outlet
other_outlet = make_outlet("Other Outlet")
others = [make_article(text=f"Report {i} of the day.", outlet=other_outlet) for i in range(6)]
project_add_articles(project=project, article_ids=[a.pk for a in others])
for i, a in enumerate([article, *others]):
    Answer.objects.create(project=project, article=a, question=question, layer=Layer.GOLD, unit_key="article",
                          value=("hostile", "neutral")[i % 2])
for path in ("code-scores/?question=tone&source=gold",
             f"code-scores/compare/?question=tone&source=gold&a={article.outlet.slug}"):
    response = client.get(f"/api/v1/projects/{project.slug}/{path}")
    assert response.status_code == 200 and response.json(), (path, response.status_code, response.content[:300])
"""


def _modules(package) -> list[str]:
    return [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]


def test_the_url_conf_every_view_module_the_prefill_and_the_code_scores_import_no_heavy_library(tmp_path):
    views = _modules(annotator.api.views) + [m for m in _modules(annotator.ui) if ".management." not in m]
    heavy = f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    code = (
        "import os, sys\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'annotator.settings')\n"
        "import django\n"
        "django.setup()\n"
        "from django.urls import get_resolver\n"
        "get_resolver().url_patterns\n"
        + "".join(f"import {m}\n" for m in views)
        + heavy
        + f"artefact_dir = {str(tmp_path / 'artefact')!r}\n"
        + SERVE_PREFILL
        + heavy
        + SERVE_CODE_SCORES
        + f"print(sorted(m for m in {MODELS!r} if m in sys.modules))\n"
    )
    (tmp_path / "artefact").mkdir()
    env = {"PATH": "/usr/bin:/bin", "FRAMESCOPE_DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    at_start, after_prefill, after_code_scores = out.stdout.strip().splitlines()[-3:]
    assert len(views) > 10 and at_start == "[]", f"imported at start-up: {at_start}"
    assert after_prefill == "[]", f"imported by the annotator page or its pre-fill: {after_prefill}"
    assert after_code_scores == "[]", f"imported by the code scores: {after_code_scores}"
