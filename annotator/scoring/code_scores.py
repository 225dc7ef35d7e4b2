"""Reads for code scores: the share of articles (or sentences) with each answer to a codebook question, per outlet
and period, with bootstrap intervals, corrected for the model's errors; outlet comparisons.

Sources (the visibility rule resolves and checks them: ``selectors.resolve_source``):

* ``model``: the active version's predictions (AnswerCount rows, written by the scoring job). Units the version
  learned from count with their cross-fitted answer. The correction inverts the classifier's cross-validated
  misclassification matrix ``P(predicted | true)`` per outlet (each row pooled towards all outlets' as far as the
  outlets' rows do not differ beyond sampling noise: empirical Bayes, :mod:`ml.codes.pooling`), fold by fold:
  a fold's units with the counts of the *other* folds; the units it did not learn from (fold -1, predicted by the
  fold models in turn, :mod:`annotator.scoring.codes`) with all of them, one matrix (:mod:`ml.codes.shares`). Multiple choice: each option as its own yes/no question.
* ``gold`` and ``annotator:<name>``: the layer's answers, counted now from the Answer rows (no correction).

Reads never write: a model table is read from ScoreCache when the scoring job stored it for the current counts
(:func:`code_scores_store`, at the end of a run), else computed and not stored; human tables are always computed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np
from django.db import connection

from annotator.annotations.models import Answer, Layer, Span
from annotator.common.errors import ApplicationError
from annotator.common.jsonsafe import json_safe
from annotator.corpus.models import Article, Outlet
from annotator.projects.models import Project, Question
from annotator.projects.visibility import Viewer
from annotator.scoring.models import AnswerCount, ScoreCache
from annotator.scoring.selectors import (
    PERIODS,
    STORED_PERIODS,
    ResolvedSource,
    periods_text,
    publication_periods,
    resolve_source,
    time_zone_marker,
)
from annotator.scoring.services import human_source_articles
from annotator.training.models import ModelVersion
from ml.stats import ArticleCounts, group_rates
from ml.stats.intervals import too_small, warning

#: Part of the cache fingerprint: change it when the statistics change for the same counts.
CODE_SCORES_VERSION = "codes-3"  # codes-3: per-outlet matrix rows pooled by empirical Bayes, not m = 20
SCORED_KINDS = (Question.Kind.SINGLE, Question.Kind.MULTIPLE, Question.Kind.SCALE)
YES, NO = "yes", "no"
FINAL = AnswerCount.FINAL_MODEL


@dataclass(frozen=True)
class CodeScoreQuery:
    question: str
    source: str = "model"
    period: str = "all"
    outlet: str | None = None

    def key(self) -> str:
        return ("codes:" + hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest())[:64]


def score_question(*, project: Project, name: str) -> Question:
    """The question to score: a choice or scale of articles or sentences."""
    question = Question.objects.filter(project=project, name=name).prefetch_related("options").first()
    if question is None:
        raise ApplicationError("Unknown question.", {"question": [f"no question {name!r} in this project"]})
    if question.kind not in SCORED_KINDS:
        raise ApplicationError(
            "Text answers are kept, not scored.", {"question": [f"{name!r} is a text question: it has no shares"]}
        )
    if question.scope == Question.Scope.SPAN:
        raise ApplicationError(
            "An attribute is scored with its spans.",
            {"question": [f"{name!r} is an attribute of spans: see attribute-rates/ for span rates by its values"]},
        )
    return question


@dataclass
class CodeTable:
    """Per row (an article's units, of one fold for the model source): the article, its outlet and period, the
    fold, its units and how many have each answer (``counts``, rows x answers; multiple choice: per option)."""

    answers: list[str]
    article: np.ndarray
    outlet: list[str]
    period: list[str]
    fold: np.ndarray
    n_units: np.ndarray
    counts: np.ndarray


def _learned(version: ModelVersion, question: Question) -> dict:
    entry = ((version.metrics or {}).get("codes") or {}).get(question.name)
    if entry is None or "skipped" in entry:
        why = f": {entry['skipped']}" if entry else " (it was trained before the question had enough answers)"
        raise ApplicationError(
            "The active model does not predict this question.",
            {"question": [f"model version {version.number} has no classifier for {question.name!r}{why}"]},
        )
    return entry


def code_table(*, project: Project, resolved: ResolvedSource, question: Question, period: str) -> CodeTable:
    """The per-article counts of one question from one source (see the module docstring)."""
    if period not in PERIODS:
        raise ApplicationError("Unknown period.", {"period": [f"{period!r}: use one of {', '.join(PERIODS)}"]})
    if resolved.version is not None:
        answers = list(_learned(resolved.version, question)["answers"])
        rows = AnswerCount.objects.filter(model_version=resolved.version, question=question).order_by(
            "article_id", "fold", "answer"
        )
        data = _fetch(rows, ["article_id", "article__outlet_id", "fold", "answer", "n_units", "n_with_answer"])
        keys = [(r[0], r[2]) for r in data]
        index = {key: i for i, key in enumerate(dict.fromkeys(keys))}
        n = len(index)
        article, outlet_id, fold, n_units = (np.zeros(n, dtype=np.int64) for _ in range(4))
        counts = np.zeros((n, len(answers)))
        column = {a: j for j, a in enumerate(answers)}
        for (a, o, f, answer, units, with_answer), key in zip(data, keys, strict=True):
            i = index[key]
            article[i], outlet_id[i], fold[i], n_units[i] = a, o, f, units
            if answer in column:
                counts[i, column[answer]] = with_answer
        first = np.unique([index[k] for k in keys], return_index=True)[1] if keys else []
        periods = publication_periods(rows, period=period, n=len(keys), time_zone=project.time_zone)
        periods = [periods[i] for i in first]
    else:
        answers = [o.value for o in question.options.all()]
        rows = Answer.objects.filter(project=project, question=question, value__isnull=False)
        if resolved.source_key == "gold":
            rows = rows.filter(layer=Layer.GOLD)
        else:
            rows = rows.filter(layer=Layer.ANNOTATOR, annotator_id=int(resolved.source_key.partition(":")[2]))
        rows = rows.order_by("article_id", "pk")
        data = _fetch(rows, ["article_id", "article__outlet_id", "value"])
        ids = list(dict.fromkeys(r[0] for r in data))
        index = {a: i for i, a in enumerate(ids)}
        article = np.array(ids, dtype=np.int64)
        outlet_id = np.zeros(len(ids), dtype=np.int64)
        fold = np.full(len(ids), FINAL, dtype=np.int64)
        n_units = np.zeros(len(ids), dtype=np.int64)
        counts = np.zeros((len(ids), len(answers)))
        column = {a: j for j, a in enumerate(answers)}
        for a, o, value in data:
            i = index[a]
            outlet_id[i] = o
            n_units[i] += 1
            for chosen in value if isinstance(value, list) else [value]:
                if chosen in column:  # an option removed since: the unit counts, with no answer
                    counts[i, column[chosen]] += 1
        periods = publication_periods(rows, period=period, n=len(data), time_zone=project.time_zone)
        first = np.unique([index[r[0]] for r in data], return_index=True)[1] if data else []
        periods = [periods[i] for i in first]
    slugs = dict(Outlet.objects.filter(pk__in=np.unique(outlet_id).tolist()).values_list("pk", "slug"))
    return CodeTable(answers, article, [slugs[o] for o in outlet_id.tolist()], periods, fold, n_units, counts)


def _fetch(rows, fields: list[str]) -> list[tuple]:
    """The rows' values straight from the cursor (JSON values decoded): no per-row ORM work."""
    if "value" not in fields:
        sql, params = rows.values_list(*fields).query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    return list(rows.values_list(*fields).iterator(chunk_size=20000))


def _misclassifications(version: ModelVersion, question: Question, folds: set[int]):
    """Per fold in ``folds``, the misclassification that corrects its units: the cross-validated confusion counts of
    the other folds (all folds for fold -1, the units the version did not learn from), pooled and per outlet.
    Multiple choice: per option."""
    from ml.codes.shares import Misclassification

    entry = _learned(version, question)

    def build(by_fold: dict, answers: list[str]) -> dict:
        out = {}
        for fold in folds:
            strata: dict[str, np.ndarray] = {}
            for k, by_outlet in by_fold.items():
                if int(k) == fold:
                    continue
                for outlet, matrix in by_outlet.items():
                    strata[outlet] = strata.get(outlet, 0) + np.asarray(matrix, dtype=float)
            pooled = sum(strata.values()) if strata else np.zeros((len(answers), len(answers)))
            out[fold] = Misclassification(answers, pooled, strata)
        return out

    confusion = entry.get("per_outlet_confusion") or {}
    if question.kind == Question.Kind.MULTIPLE:
        return {option: build(confusion.get(option, {}), [YES, NO]) for option in entry["answers"]}
    return build(confusion, list(entry["answers"]))


def _settings(project: Project) -> dict:
    return {"n_resamples": project.bootstrap_resamples, "seed": project.random_seed}


CORRECTION_TEXT = (
    "corrected with the classifier's cross-validated misclassification matrix per outlet (each row pooled towards "
    "all outlets' by empirical Bayes: fully where the outlets' errors do not differ beyond chance), {method}; each "
    "cross-validation fold's units with the other folds' errors"
)


def _method(*, project: Project, n_resamples: int, resampling: str, corrected: str | None, period: str) -> str:
    text = f"bootstrap over articles ({resampling}), {n_resamples} resamples, seed {project.random_seed}, 95% CI"
    if corrected:
        text += f"; {corrected}"
    if period != "all":
        text += f"; {periods_text(project)}"
    return text


def code_scores(
    *, project: Project, query: CodeScoreQuery, viewer: Viewer | None = None, use_cache: bool = True
) -> list[dict]:
    """Rows {outlet, question, answer, period, period_start, n_units, n_with_answer, share (+CI), corrected_share
    (+CI), model_version, method, …} for ``query``, from a source the viewer may read (``viewer=None``: the system).
    A model table the scoring job stored for the current counts is read back; anything else is computed, not
    stored."""
    resolved = resolve_source(project=project, source=query.source, viewer=viewer)
    question = score_question(project=project, name=query.question)
    if use_cache and resolved.version is not None:
        hit = (
            ScoreCache.objects.filter(
                project=project,
                key=query.key(),
                fingerprint=code_scores_fingerprint(project=project, version=resolved.version, question=question),
            )
            .values_list("result", flat=True)
            .first()
        )
        if hit is not None:
            return hit["rows"]
    return code_scores_compute(project=project, query=query, resolved=resolved, question=question)


def code_scores_fingerprint(*, project: Project, version: ModelVersion, question: Question) -> str:
    """Changes when the version's counts of the question change (a scoring chunk inserts rows with new ids; a clear
    deletes them) or the statistics' settings do. Deleting articles outright does not move it; the next scoring
    does."""
    last = (
        AnswerCount.objects.filter(model_version=version, question=question)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return hashlib.sha256(
        f"{version.pk}|{question.pk}|{last}|{project.bootstrap_resamples}|{project.random_seed}|"
        f"{CODE_SCORES_VERSION}|{time_zone_marker(project)}".encode()
    ).hexdigest()


def code_scores_compute(
    *, project: Project, query: CodeScoreQuery, resolved: ResolvedSource, question: Question
) -> list[dict]:
    """The code-score table of ``query``, computed from the counts (see :func:`code_scores`)."""
    from ml.codes.shares import DEFAULT_CORRECTION, answer_shares_from_counts

    table = code_table(project=project, resolved=resolved, question=question, period=query.period)
    if not len(table.article):
        return []
    groups = list(zip(table.outlet, table.period, strict=True))
    version = resolved.version
    common = dict(groups=groups, articles=table.article.tolist(), confidence=0.95, **_settings(project))
    if version is not None:
        errors = _misclassifications(version, question, set(table.fold.tolist()))
        common.update(folds=table.fold.tolist(), strata=table.outlet, method=DEFAULT_CORRECTION)
    correction = CORRECTION_TEXT.format(method=f"{DEFAULT_CORRECTION.value.upper()} estimate")
    shares = []
    if question.kind == Question.Kind.MULTIPLE:
        for j, option in enumerate(table.answers):
            yes_no = np.column_stack([table.counts[:, j], table.n_units - table.counts[:, j]])
            per_option = {"errors": errors[option]} if version is not None else {}
            rows = answer_shares_from_counts(counts=yes_no, answers=[YES, NO], **common, **per_option)
            shares += [(option, r) for r in rows if r.answer == YES]
    else:
        values = None
        if question.kind == Question.Kind.SCALE:
            numeric = {o.value: o.numeric for o in question.options.all()}
            if all(numeric.get(a) is not None for a in table.answers):
                values = [numeric[a] for a in table.answers]
        # units with no answer (an option removed since) are counted as units in every share's denominator
        counts = table.counts
        rows = answer_shares_from_counts(
            counts=counts, answers=table.answers, values=values, **common,
            **({"errors": errors} if version is not None else {}),
        )  # fmt: skip
        shares = [(r.answer, r) for r in rows]
    out = []
    for answer, r in shares:
        outlet, period_start = r.group
        if query.outlet and outlet != query.outlet:
            continue
        out.append(
            {
                "outlet": outlet,
                "question": question.name,
                "answer": answer,
                "source": resolved.display,
                "period": query.period,
                "period_start": period_start or None,
                "n_articles": r.n_articles,
                "n_units": r.n_units,
                "n_with_answer": r.n_with_answer,
                "share": r.share,
                "share_ci_low": r.share_ci_low,
                "share_ci_high": r.share_ci_high,
                "corrected_share": r.corrected_share,
                "corrected_ci_low": r.corrected_ci_low,
                "corrected_ci_high": r.corrected_ci_high,
                "mean": r.mean,
                "mean_ci_low": r.mean_ci_low,
                "mean_ci_high": r.mean_ci_high,
                "corrected_mean": r.corrected_mean,
                "corrected_mean_ci_low": r.corrected_mean_ci_low,
                "corrected_mean_ci_high": r.corrected_mean_ci_high,
                "model_version": version.number if version else None,
                "too_small": too_small(r.n_articles),
                "warning": warning(r.n_articles),
                "method": _method(
                    project=project,
                    n_resamples=r.n_resamples,
                    resampling=r.resampling,
                    corrected=correction if r.corrected_share is not None else None,
                    period=query.period,
                ),  # fmt: skip
            }
        )
    out.sort(key=lambda row: (row["outlet"], row["period_start"] or "", table.answers.index(row["answer"])))
    return json_safe(out)


def code_scores_store(*, project: Project, version: ModelVersion, periods: tuple[str, ...] = STORED_PERIODS) -> int:
    """Compute and store the model tables of every question the version predicts (the scoring job, at the end of a
    run), so readers find them; returns the number of tables stored."""
    n = 0
    for name, entry in ((version.metrics or {}).get("codes") or {}).items():
        question = Question.objects.filter(project=project, name=name).first()
        if "skipped" in entry or question is None or question.kind not in SCORED_KINDS:
            continue
        resolved = ResolvedSource(f"model:{version.pk}", "model", version)
        fingerprint = code_scores_fingerprint(project=project, version=version, question=question)
        for period in periods:
            query = CodeScoreQuery(question=name, source="model", period=period)
            rows = code_scores_compute(project=project, query=query, resolved=resolved, question=question)
            ScoreCache.objects.update_or_create(
                project=project, key=query.key(),
                defaults={"query": asdict(query), "fingerprint": fingerprint, "result": {"rows": rows}},
            )  # fmt: skip
            n += 1
    return n


#: Share differences are computed as ml.stats rate differences per 1,000 units; their values are divided back.
PER_1K = 1000.0
DIFFERENCE_FIELDS = ("rate_a", "rate_b", "difference", "ci_low", "ci_high")
REST = "(rest)"


def code_score_comparison(
    *,
    project: Project,
    question: str,
    source: str = "model",
    answer: str | None = None,
    a: str | None = None,
    b: str | None = None,
    viewer: Viewer | None = None,
    period: str = "all",
    period_start: str | None = None,
) -> list[dict]:
    """Differences of answer shares between outlets: ``a`` vs ``b``, ``a`` vs the rest, or (neither) every pair with
    Holm and Benjamini-Hochberg adjusted p-values (one family per answer); one answer or all. The test and the
    uncorrected interval are ml.stats' comparisons of the share (units with the answer over units, resampled by
    article); the corrected difference and its interval come from the same bootstrap as the corrected shares.
    ``period``/``period_start`` (e.g. ``month``, ``2024-02-01``): compare within that one period's articles."""
    from ml.stats import compare_groups, pairwise_differences
    from ml.stats.comparison import describe

    resolved = resolve_source(project=project, source=source, viewer=viewer)
    q = score_question(project=project, name=question)
    table = code_table(project=project, resolved=resolved, question=q, period=period)
    if period != "all":
        table = _one_period(table, period, period_start)
    if answer is not None and answer not in table.answers:
        options = [option.value for option in q.options.all()]
        if answer not in options:
            raise ApplicationError("Unknown answer.", {"answer": [f"{answer!r}: use one of {', '.join(options)}"]})
        return []  # an option this source never gives (e.g. one the classifier did not learn): nothing to compare
    outlets = sorted(set(table.outlet))
    for name, value in (("a", a), ("b", b)):
        if value and value not in outlets:
            raise ApplicationError("Unknown outlet.", {name: [f"no answered articles of outlet {value!r}"]})
    if len(outlets) < 2:
        raise ApplicationError("Nothing to compare.", {"question": ["answers from at least two outlets are needed"]})
    groups = [o if (not a or b or o == a) else REST for o in table.outlet]
    corrected = _corrected_draws(project=project, resolved=resolved, question=q, table=table, groups=groups)
    # one row per article for the test: its folds' counts added up
    ids, article_of = np.unique(table.article, return_inverse=True)
    article_outlet = np.empty(len(ids), dtype=object)
    article_outlet[article_of] = table.outlet
    n_rows = np.zeros(len(ids))
    np.add.at(n_rows, article_of, table.n_units if q.kind == Question.Kind.MULTIPLE else table.counts.sum(axis=1))
    settings = {**_settings(project), "confidence": 0.95}
    out = []
    for j, name in enumerate(table.answers):
        if answer is not None and name != answer:
            continue
        with_answer = np.zeros(len(ids))
        np.add.at(with_answer, article_of, table.counts[:, j])
        counts = ArticleCounts(
            groups=article_outlet, n_tokens=n_rows.astype(np.int64), n_spans=with_answer.astype(np.int64)
        )
        if a:
            results = [compare_groups(counts, group_a=a, group_b=b or None, **settings)]
        else:
            results = pairwise_differences(counts, **settings)
        for r in results:
            row = {k: (v / PER_1K if k in DIFFERENCE_FIELDS else v) for k, v in r.to_dict().items()}
            row["method"] = describe(r)
            row.pop("corrected_difference"), row.pop("corrected_ci_low"), row.pop("corrected_ci_high")
            share_a, share_b = row.pop("rate_a"), row.pop("rate_b")
            out.append(
                {
                    "question": q.name, "answer": name, "source": resolved.display,
                    "model_version": resolved.version.number if resolved.version else None, "period": period,
                    "period_start": period_start if period != "all" else None,
                    "group_a": str(r.group_a), "group_b": str(r.group_b), "share_a": share_a, "share_b": share_b,
                    **row, **_corrected_difference(corrected, str(r.group_a), str(r.group_b), j),
                }
            )  # fmt: skip
    return json_safe(out)


def _one_period(table: CodeTable, period: str, period_start: str | None) -> CodeTable:
    """The rows of ``table`` (split by ``period``) published in the period that starts on ``period_start``."""
    starts = sorted({p for p in table.period if p})
    if not period_start or period_start not in starts:
        known = ", ".join(starts[-6:]) or "none"
        raise ApplicationError(
            "Name the period to compare in.",
            {"period_start": [f"{period_start!r} starts no {period} with answers (the last ones: {known})"]},
        )
    keep = np.array([p == period_start for p in table.period], dtype=bool)
    return CodeTable(
        answers=table.answers, article=table.article[keep], outlet=[o for o, k in zip(table.outlet, keep, strict=True) if k],
        period=[p for p, k in zip(table.period, keep, strict=True) if k], fold=table.fold[keep], n_units=table.n_units[keep],
        counts=table.counts[keep],
    )  # fmt: skip


def _corrected_draws(*, project: Project, resolved: ResolvedSource, question: Question, table: CodeTable, groups):
    """Per group, the corrected shares and their bootstrap draws (answer columns; multiple choice: the options'
    "yes"), or None for a human source."""
    from ml.codes.shares import DEFAULT_CORRECTION, answer_share_draws

    version = resolved.version
    if version is None:
        return None
    errors = _misclassifications(version, question, set(table.fold.tolist()))
    common = dict(
        groups=groups, articles=table.article.tolist(), folds=table.fold.tolist(), strata=table.outlet,
        method=DEFAULT_CORRECTION, **_settings(project),
    )  # fmt: skip
    if question.kind != Question.Kind.MULTIPLE:
        draws = answer_share_draws(counts=table.counts, answers=table.answers, errors=errors, **common)
        return {d.group: (d.corrected, d.corrected_draws) for d in draws}
    per_option = []
    for j, option in enumerate(table.answers):
        yes_no = np.column_stack([table.counts[:, j], table.n_units - table.counts[:, j]])
        per_option.append(
            {d.group: d for d in answer_share_draws(counts=yes_no, answers=[YES, NO], errors=errors[option], **common)}
        )
    return {
        group: (
            np.array([o[group].corrected[0] for o in per_option]),
            np.column_stack([o[group].corrected_draws[:, 0] for o in per_option]),
        )
        for group in per_option[0]
    }


def _corrected_difference(corrected, a: str, b: str, j: int) -> dict:
    from ml.stats.bootstrap import interval

    if corrected is None or a not in corrected or b not in corrected:
        return {"corrected_share_a": None, "corrected_share_b": None, "corrected_difference": None,
                "corrected_ci_low": None, "corrected_ci_high": None}  # fmt: skip
    (point_a, draws_a), (point_b, draws_b) = corrected[a], corrected[b]
    lo, hi = interval((draws_a[:, j] - draws_b[:, j])[:, None], confidence=0.95)
    return {
        "corrected_share_a": float(point_a[j]),
        "corrected_share_b": float(point_b[j]),
        "corrected_difference": float(point_a[j] - point_b[j]),
        "corrected_ci_low": float(lo[0]),
        "corrected_ci_high": float(hi[0]),
    }


NO_VALUE = "(no answer)"


def attribute_rates(
    *, project: Project, attribute: str, source: str = "gold", period: str = "all", viewer: Viewer | None = None
) -> list[dict]:
    """Spans of an attribute's label per 1,000 tokens broken down by the attribute's value (one row per outlet,
    value and period; "loaded terms aimed at the armed opposition, per 1,000 words"), from a human layer, with
    bootstrap intervals over articles (ml.stats.group_rates). Spans of the label whose attribute is unanswered are
    the value ``(no answer)``. The model's suggestions carry no attributes: the model source is refused."""
    question = Question.objects.filter(project=project, name=attribute, scope=Question.Scope.SPAN).first()
    if question is None:
        raise ApplicationError(
            "Unknown attribute.", {"attribute": [f"no span attribute {attribute!r} in this project"]}
        )
    if question.kind not in SCORED_KINDS:
        raise ApplicationError("Text answers are kept, not scored.", {"attribute": [f"{attribute!r} is free text"]})
    if period not in PERIODS:
        raise ApplicationError("Unknown period.", {"period": [f"{period!r}: use one of {', '.join(PERIODS)}"]})
    resolved = resolve_source(project=project, source=source, viewer=viewer)
    if resolved.version is not None:
        raise ApplicationError(
            "The model does not predict attributes.",
            {"source": ["span attributes are counted from a human layer: use gold or annotator:<name>"]},
        )
    articles = Article.objects.filter(
        pk__any_of=sorted(human_source_articles(project=project, source=resolved.source_key))
    ).order_by("pk")
    rows = list(articles.values_list("pk", "outlet__slug", "n_tokens"))
    periods = publication_periods(
        articles, period=period, n=len(rows), field="published_at", time_zone=project.time_zone
    )
    layer = Layer.GOLD if resolved.source_key == "gold" else Layer.ANNOTATOR
    spans = Span.objects.filter(project=project, layer=layer, label_id=question.label_id, article__in=articles)
    if layer == Layer.ANNOTATOR:
        spans = spans.filter(annotator_id=int(resolved.source_key.partition(":")[2]))
    value_of = dict(Answer.objects.filter(question=question, span__in=spans).values_list("span_id", "value"))
    values = [o.value for o in question.options.all()] + [NO_VALUE]
    index = {pk: i for i, (pk, _o, _n) in enumerate(rows)}
    counts = np.zeros((len(rows), len(values)), dtype=np.int64)
    column = {v: j for j, v in enumerate(values)}
    for span_id, article_id in spans.values_list("pk", "article_id"):
        chosen = value_of.get(span_id)
        chosen = chosen if isinstance(chosen, list) else [chosen if chosen is not None else NO_VALUE]
        for value in chosen or [NO_VALUE]:
            counts[index[article_id], column.get(value, column[NO_VALUE])] += 1
    groups = [f"{o}|{p}" for (_pk, o, _n), p in zip(rows, periods, strict=True)]
    tokens = np.array([n for _pk, _o, n in rows], dtype=np.int64)
    out = []
    for j, value in enumerate(values):
        if not rows:
            break
        estimates = group_rates(
            ArticleCounts(groups=groups, n_tokens=tokens, n_spans=counts[:, j]),
            n_resamples=project.bootstrap_resamples, seed=project.random_seed,
        )  # fmt: skip
        for group, est in estimates.items():
            outlet, _, start = str(group).partition("|")
            out.append(
                {
                    "outlet": outlet, "attribute": question.name, "label": question.label.name, "value": value,
                    "source": resolved.display, "period": period, "period_start": start or None,
                    "n_articles": est.n_articles, "n_tokens": est.n_tokens, "n_spans": est.n_spans,
                    "rate_per_1k": est.rate, "rate_ci_low": est.rate_ci_low, "rate_ci_high": est.rate_ci_high,
                    "method": f"{est.method} bootstrap over articles, {est.n_resamples} resamples, seed {est.seed}, "
                    f"{est.confidence:.0%} CI" + (f"; {periods_text(project)}" if period != "all" else ""),
                }
            )  # fmt: skip
    out.sort(key=lambda r: (r["outlet"], r["period_start"] or "", values.index(r["value"])))
    return json_safe(out)
