"""The demo that `make run` loads (`manage.py load_demo`): every page a newcomer opens shows real content.

* users: demo-admin (staff, the project's owner), two annotators, a curator;
* the invented demo corpus (seeds/) and the seed article, in the project *demo-framing*;
* a gold layer on two thirds of the articles, made by a small rule list (`provenance.demo_rule`): a stand-in for a
  curator's work so that a model can be trained at once;
* both annotators' spans on a dozen of the other articles (assignments done), made by the same rules with the
  differences two people have: one misses a match, the other takes a label for another or a word more, so that
  agreement has real numbers and the curator has disagreements to settle;
* codebook questions: the article's primary frame (the Media Frames Corpus' 15 dimensions) and a ``target``
  attribute on actor labels, with both annotators' invented answers on their dozen (they disagree now and then);
* the term-choice concept the demo is built around, a pinned lexicon term, a frozen snapshot of the study, the human
  layers' framing counts (recounted in this process, so Scores has every source before a worker runs);
* model v1, queued for the Celery worker with its activation and scoring linked after it (`demo_model_publish`): when
  `make run` starts the worker it trains in seconds, becomes active and scores the project.

Idempotent: every part checks whether it is there already, so a second run changes nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from annotator.annotations.models import Adjudication, Layer, Span
from annotator.common.models import JobStatus
from annotator.corpus.models import Article
from annotator.corpus.services import import_batch_create, import_batch_run
from annotator.projects import services as project_services
from annotator.projects.models import Assignment, CodebookVersion, Label, Project, Role
from annotator.snapshots.models import Snapshot
from annotator.training.models import ModelVersion

SEEDS = Path(settings.BASE_DIR) / "seeds"
DEMO_USERS = [
    ("demo-admin", "demo-admin-pw", True),
    ("demo-annotator", "demo-annotator-pw", False),
    ("demo-annotator2", "demo-annotator2-pw", False),
    ("demo-curator", "demo-curator-pw", False),
]
ANNOTATORS = ("demo-annotator", "demo-annotator2")
PROJECT_SLUG = "demo-framing"
DOUBLE_CODED = 12  # articles both annotators finished
SNAPSHOT_NAME = "Demo study as loaded (gold and both annotators' work)"
# Demo stand-in for a curator's gold layer: (label, pattern) over whole words.
DEMO_GOLD_RULES = [
    (
        "loaded term",
        r"terrorists?|takfiri|liberat(?:e|ed|es|ion|ing)|foreign-sponsored|mercenar(?:y|ies)|regime|thugs?",
    ),
    ("euphemism", r"restore state authority|pacification|cleansing operation"),
    ("actor label", r"rebels?|militants?|insurgents?|opposition fighters|jihadists?|armed groups?"),
    ("scare quotes", r"[“\"](?:liberated|facilitated|moderate|rebels|peaceful|ceasefire|humanitarian)[”\"]"),
]
# The annotators also mark hedges, which the demo's gold layer leaves out (so the model learns four labels of five,
# as a model trained on a partial gold layer does): every label has agreement figures.
DEMO_RULES_ANNOTATORS = DEMO_GOLD_RULES + [("attribution/hedge", r"according to|claimed|claims|so-called|denied")]


def demo_users() -> dict:
    """The demo accounts (created with their passwords once; never reset)."""
    User = get_user_model()
    users = {}
    for username, password, is_admin in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": is_admin, "is_superuser": is_admin}
        )
        if created:
            user.set_password(password)
            user.save()
        users[username] = user
    return users


def demo_import(path: Path, fmt: str, outlet: str):
    """Import a seed file (a rerun finds every article there already)."""
    batch = import_batch_create(source_name=str(path.relative_to(SEEDS.parent)), format=fmt, outlet_slug=outlet)
    return import_batch_run(batch_id=batch.pk, path=path)


def _demo_outlets() -> list[str]:
    names = {
        json.loads(line)["outlet"]
        for line in (SEEDS / "demo_corpus.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    return [slugify(n) for n in names] + ["seed-outlet"]


@transaction.atomic
def demo_project(users: dict) -> Project:
    """The demo project with its codebook, members, articles and the annotators' queues."""
    admin = users["demo-admin"]
    project = Project.objects.filter(slug=PROJECT_SLUG).first()
    if project is None:
        project = project_services.project_create(
            name="Demo: framing of an invented conflict",
            slug=PROJECT_SLUG,
            created_by=admin,
            description="Four invented outlets report the same invented events with different words.",
            guidelines=(
                "# Guidelines\n\nMark **loaded terms** (words that judge before they inform, e.g. *terrorists*, "
                "*liberate*), **euphemisms**, **actor labels** (how armed groups are named), "
                "**attribution/hedges** and **scare quotes**.\n\nSelect the shortest span that carries the "
                "framing; do not include articles or punctuation."
            ),
            annotators_per_article=2,
        )
        project_services.codebook_create_default(project=project, by=admin)
    for username, role in (
        ("demo-annotator", Role.ANNOTATOR),
        ("demo-annotator2", Role.ANNOTATOR),
        ("demo-curator", Role.CURATOR),
    ):
        project_services.membership_add(project=project, user=users[username], role=role, by=admin)
    ids = list(Article.objects.filter(outlet__slug__in=_demo_outlets()).values_list("pk", flat=True))
    project_services.project_add_articles(project=project, by=admin, article_ids=ids)
    for username in ANNOTATORS:
        project_services.assignment_create_for_annotator(
            project=project, annotator=users[username], article_ids=sorted(ids)
        )
    return project


def _rule_matches(text: str, labels: dict[str, Label], rules: list[tuple[str, str]]) -> list[tuple[str, int, int]]:
    """(label name, start, end) of every match of the rules in the text, in text order."""
    found = []
    for label_name, pattern in rules:
        if label_name not in labels:
            continue
        for m in re.finditer(rf"(?<![\w-])(?:{pattern})(?![\w-])", text, flags=re.IGNORECASE):
            found.append((label_name, m.start(), m.end()))
    return sorted(found, key=lambda t: (t[1], t[2]))


def _split_articles(project: Project, labels: dict[str, Label]) -> tuple[list[Article], list[Article]]:
    """(the gold articles: two thirds; the dozen both annotators finish), both by id.

    The annotators' dozen are articles without gold, those where their rules find the most labels, plus for a label
    found in none of those the first article that has it (gold or not), so that every label has agreement figures."""
    articles = list(Article.objects.filter(project_links__project=project).order_by("pk"))
    gold = [a for i, a in enumerate(articles) if i % 3 != 1]
    rest = [a for i, a in enumerate(articles) if i % 3 == 1]
    found = {a.pk: {label for label, *_ in _rule_matches(a.text, labels, DEMO_RULES_ANNOTATORS)} for a in articles}
    chosen: list[Article] = []
    for label in labels:
        if not any(label in found[a.pk] for a in chosen):
            chosen += [a for a in rest + articles if label in found[a.pk]][:1]
    chosen += [a for a in sorted(rest, key=lambda a: (-len(found[a.pk]), a.pk)) if a not in chosen]
    return gold, sorted(chosen[:DOUBLE_CODED], key=lambda a: a.pk)


def demo_gold(project: Project) -> int:
    """Gold spans from the rule list on two thirds of the articles, each adjudicated (the rest stay for annotators)."""
    if Span.objects.filter(project=project, layer=Layer.GOLD).exists():
        return Span.objects.filter(project=project, layer=Layer.GOLD).count()
    labels = {label.name: label for label in Label.objects.filter(project=project)}
    version = CodebookVersion.objects.filter(project=project).order_by("-number").first()
    rows, adjudicated = [], []
    gold_articles, _ = _split_articles(project, labels)
    for article in gold_articles:
        adjudicated.append(Adjudication(project=project, article=article, status=Adjudication.Status.DONE))
        for label_name, start, end in _rule_matches(article.text, labels, DEMO_GOLD_RULES):
            rows.append(
                Span(
                    project=project, article=article, layer=Layer.GOLD, label=labels[label_name],
                    start_char=start, end_char=end, text=article.text[start:end], codebook_version=version,
                    provenance={"demo_rule": label_name},
                )
            )  # fmt: skip
    Span.objects.bulk_create(rows, batch_size=2000)
    Adjudication.objects.bulk_create(adjudicated, ignore_conflicts=True)
    project_services.human_layers_changed(project=project)
    return len(rows)


# How the two demo annotators differ from the rules, match by match (the n-th match of an article): the first misses
# every fifth; the second reads every fourth actor label as a loaded term and takes the word before every sixth
# match too. Enough disagreement for a curator, enough agreement for figures well above chance.
def _first_annotator(n: int, label: str, start: int, end: int, text: str) -> tuple[str, int, int] | None:
    return None if n % 5 == 4 else (label, start, end)


def _second_annotator(n: int, label: str, start: int, end: int, text: str) -> tuple[str, int, int] | None:
    if label == "actor label" and n % 4 == 1:
        return "loaded term", start, end
    if n % 6 == 5:
        before = re.search(r"(\w+)\s+$", text[max(0, start - 30) : start])
        if before:
            return label, start - len(before.group(0)), end
    return label, start, end


DEMO_ANNOTATOR_RULES = {"demo-annotator": _first_annotator, "demo-annotator2": _second_annotator}


def demo_annotations(project: Project, users: dict) -> int:
    """Both annotators' spans on a dozen articles, their assignments there done (once: a rerun adds nothing)."""
    if Span.objects.filter(project=project, layer=Layer.ANNOTATOR, annotator__username__in=ANNOTATORS).exists():
        return Span.objects.filter(project=project, layer=Layer.ANNOTATOR).count()
    labels = {label.name: label for label in Label.objects.filter(project=project)}
    version = CodebookVersion.objects.filter(project=project).order_by("-number").first()
    _, articles = _split_articles(project, labels)
    rows = []
    for username, rule in DEMO_ANNOTATOR_RULES.items():
        user = users[username]
        for article in articles:
            marked = set()
            matches = _rule_matches(article.text, labels, DEMO_RULES_ANNOTATORS)
            for n, (label_name, start, end) in enumerate(matches):
                span = rule(n, label_name, start, end, article.text)
                if span is None or span in marked:
                    continue
                marked.add(span)
                label, s, e = span
                rows.append(
                    Span(
                        project=project, article=article, layer=Layer.ANNOTATOR, annotator=user,
                        label=labels[label], start_char=s, end_char=e, text=article.text[s:e],
                        codebook_version=version, provenance={"demo_rule": username},
                    )
                )  # fmt: skip
        Assignment.objects.filter(project=project, annotator=user, article__in=articles).update(
            status=Assignment.Status.DONE
        )
    Span.objects.bulk_create(rows, batch_size=2000)
    project_services.human_layers_changed(project=project)
    return len(rows)


def demo_concepts(project: Project) -> None:
    """The term-choice question the demo is built around: what do outlets call the armed opposition?"""
    from annotator.scoring.concepts import concept_create
    from annotator.scoring.models import Concept

    if Concept.objects.filter(project=project, slug="armed-opposition").exists():
        return
    concept_create(
        project=project,
        name="Armed opposition",
        slug="armed-opposition",
        variants=[
            {"name": "terrorists", "terms": ["terrorist", "terrorists", "Takfiri", "Takfiris"]},
            {"name": "rebels", "terms": ["rebel", "rebels", "opposition fighters"]},
            {"name": "militants", "terms": ["militant", "militants", "insurgent", "insurgents"]},
            {"name": "armed groups", "terms": ["armed group", "armed groups", "fighters"]},
        ],
    )


def demo_term_rules(project: Project, users: dict) -> None:
    """One pinned term (the lexicon page's rules): a pinned term is always predicted, whatever the data says."""
    from annotator.training.models import TermRule
    from annotator.training.services import term_rule_set

    if TermRule.objects.filter(project=project).exists():
        return
    label = Label.objects.get(project=project, name="loaded term")
    term_rule_set(project=project, term="foreign-sponsored", label=label, action="pin", user=users["demo-admin"])


def demo_snapshot(project: Project, users: dict) -> Snapshot:
    """A frozen snapshot of the study as loaded (frozen here, in this process: it needs no worker)."""
    from annotator.snapshots.services import snapshot_freeze

    existing = Snapshot.objects.filter(project=project, name=SNAPSHOT_NAME).first()
    if existing is not None:
        return existing
    return snapshot_freeze(project=project, by=users["demo-admin"], name=SNAPSHOT_NAME)


def demo_human_scores(project: Project) -> list[str]:
    """The human layers' counts (gold and each annotator's), recounted here rather than by the worker the writes
    above queued: the server starts with every Scores source alive, with or without a worker running yet."""
    from annotator.scoring.services import human_scores_refresh_stale

    return human_scores_refresh_stale(project=project)


def demo_model(project: Project, users: dict) -> ModelVersion:
    """Model v1 on the gold layer, queued for the worker with ``demo_model_publish`` linked after its training.

    Queued once: a rerun finds v1 (queued, trained or failed) and leaves it alone."""
    from annotator.training.services import model_version_create
    from annotator.ui.tasks import demo_model_publish_task

    version = ModelVersion.objects.filter(project=project).order_by("number").first()
    if version is not None:
        return version
    return model_version_create(
        project=project, user=users["demo-admin"], source="gold", then=demo_model_publish_task.si
    )


def demo_model_publish(*, version_id: int) -> str:
    """After the demo's training: activate the version and score the project with it (on the worker). A version
    that did not train is left as it is (its page says why)."""
    from annotator.scoring.services import scoring_run_start
    from annotator.training.services import model_version_activate

    version = ModelVersion.objects.select_related("project").get(pk=version_id)
    if version.status != JobStatus.SUCCEEDED:
        return f"version {version.number} is {version.status}: not activated"
    if not version.is_active:
        version = model_version_activate(version=version)
    job = scoring_run_start(project=version.project, version=version)
    return f"version {version.number} active; scoring job {job.pk}"


# The 15 frame dimensions of the Media Frames Corpus (Card et al. 2015), the demo's primary-frame question.
MFC_FRAMES = [
    ("economic", "Economic"), ("capacity_resources", "Capacity and resources"), ("morality", "Morality"),
    ("fairness_equality", "Fairness and equality"), ("legality", "Legality, constitutionality, jurisprudence"),
    ("policy_prescription", "Policy prescription and evaluation"), ("crime_punishment", "Crime and punishment"),
    ("security_defence", "Security and defence"), ("health_safety", "Health and safety"),
    ("quality_of_life", "Quality of life"), ("cultural_identity", "Cultural identity"),
    ("public_opinion", "Public opinion"), ("political", "Political"),
    ("external_regulation", "External regulation and reputation"), ("other", "Other"),
]  # fmt: skip
TARGETS = [
    ("government", "Government"), ("armed_opposition", "Armed opposition"), ("civilians", "Civilians"),
    ("foreign_state", "Foreign state"), ("other", "Other"),
]  # fmt: skip
# Invented coding rules for the demo answers: the first pattern found in an article gives its primary frame.
DEMO_FRAME_RULES = [
    (r"ceasefire|talks|negotiat|parliament|minister", "political"),
    (r"convoy|aid|hospital|wounded|medical", "health_safety"),
    (r"school|highway|market|electricity|water", "quality_of_life"),
    (r"troops|army|offensive|fighters|shelling|liberat", "security_defence"),
]


def demo_questions(project: Project, users: dict) -> None:
    """The codebook's questions: the article's primary frame (MFC's 15) and the target of an actor label."""
    from annotator.projects.models import Question
    from annotator.projects.questions import question_create

    admin = users["demo-admin"]
    if not Question.objects.filter(project=project, name="primary_frame").exists():
        question_create(
            project=project, name="primary_frame", prompt="Primary frame of the article", by=admin, hotkey="f",
            description="The frame dimension the article mostly uses (Boydstun et al.'s codebook, as in the Media "
            "Frames Corpus): what is the story mainly about?",
            options=[{"value": value, "text": text} for value, text in MFC_FRAMES],
        )  # fmt: skip
    if not Question.objects.filter(project=project, name="target").exists():
        question_create(
            project=project, name="target", prompt="Who is named?", scope="span", by=admin,
            label=Label.objects.get(project=project, name="actor label"),
            description="The group the actor label names.",
            options=[{"value": value, "text": text} for value, text in TARGETS],
        )  # fmt: skip


def _demo_frame(text: str, n: int, second: bool) -> str:
    found = [frame for pattern, frame in DEMO_FRAME_RULES if re.search(pattern, text, flags=re.IGNORECASE)]
    frame = found[0] if found else "other"
    if second and n % 3 == 2:  # the second annotator reads every third article's frame differently
        frame = found[1] if len(found) > 1 else "political"
    return frame


def _demo_target(text: str, n: int, second: bool) -> str:
    target = "foreign_state" if re.search(r"foreign|mercenar", text, flags=re.IGNORECASE) else "armed_opposition"
    return "government" if second and n % 4 == 3 else target


def demo_answers(project: Project, users: dict) -> int:
    """The gold primary frame of the gold articles, and both annotators' answers on the double-coded dozen: a primary
    frame per article and a target per actor-label span, with disagreements (through the import service: the answer rules apply). Once: a rerun adds nothing."""
    from annotator.annotations.answers import AnswerRow, answers_import
    from annotator.annotations.models import Answer

    if Answer.objects.filter(project=project).exists():
        return Answer.objects.filter(project=project).count()
    labels = {label.name: label for label in Label.objects.filter(project=project)}
    gold_articles, articles = _split_articles(project, labels)
    # The gold layer's primary frame on the gold articles (the rule's own frame), so that model v1 learns the question
    # and the dashboard has model and gold code scores to show.
    rows = [
        AnswerRow(article_id=article.pk, question="primary_frame", value=_demo_frame(article.text, n, False),
                  layer=Layer.GOLD)
        for n, article in enumerate(gold_articles)
    ]  # fmt: skip
    for second, username in enumerate(ANNOTATORS):
        user = users[username]
        for n, article in enumerate(articles):
            frame = _demo_frame(article.text, n, bool(second))
            rows.append(AnswerRow(article_id=article.pk, question="primary_frame", value=frame, annotator_id=user.pk))
        spans = Span.objects.filter(project=project, layer=Layer.ANNOTATOR, annotator=user, label=labels["actor label"])
        for n, span in enumerate(spans.order_by("article_id", "start_char")):
            context = span.article.text[max(0, span.start_char - 40) : span.end_char]
            rows.append(
                AnswerRow(
                    article_id=span.article_id, question="target", value=_demo_target(context, n, bool(second)),
                    annotator_id=user.pk, span_id=span.pk,
                )
            )  # fmt: skip
    result = answers_import(project=project, rows=rows)
    if result.errors:
        raise RuntimeError(f"demo answers refused: {result.errors[:3]}")
    return result.created
