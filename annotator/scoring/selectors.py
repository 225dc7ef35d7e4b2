"""Reads for framing scores: per-article counts → ml.stats → tidy rows.

Reads never write. A table the scoring run stored for the current counts (``ScoreCache``, see
``services.framing_scores_store``) is read back; any other is computed and not stored. The per-article counts of the
human layers are recounted by ``services.human_scores_refresh_stale``, queued by the writes that change them."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from django.db import connection
from django.db.models import QuerySet

from annotator.annotations.models import Layer
from annotator.common.errors import ApplicationError
from annotator.common.jsonsafe import json_safe
from annotator.common.timezones import DEFAULT_TIME_ZONE, zone
from annotator.corpus.models import Outlet
from annotator.projects.models import Label, Project
from annotator.projects.visibility import BLIND_LAYER, Hidden, Viewer, system_viewer
from annotator.scoring.codes import version_questions
from annotator.scoring.models import ArticleScore, Concept, PredictedAnswers, ScoreCache
from annotator.scoring.services import model_source
from annotator.training.models import ModelVersion
from ml.stats import (
    ArticleCounts,
    ClassifierErrors,
    StratifiedErrors,
    group_rates,
    pairwise_differences,
    period_start,
)
from ml.stats.comparison import compare_groups, describe
from ml.stats.intervals import warning

SYNDICATION_RULES = ("per_outlet", "once", "exclude_wire")
#: How the rate and share intervals of a framing-score row are computed (ml.stats.intervals).
RATE_INTERVAL_TEXT = (
    "rate: Jeffreys interval on design-effect-adjusted span counts (articles as clusters); share: Wilson "
    "binomial interval over articles"
)
PERIODS = ("all", "year", "month", "week", "day")
POOLED_CORRECTION = "pooled precision/recall ratio"
PER_OUTLET_CORRECTION = "per-outlet precision/recall ratio (empirical Bayes)"
#: Part of the cache fingerprint: change it when the correction a query uses changes for the same counts, so
#: cached rows are recomputed.
CORRECTION_VERSION = "per-outlet-eb-1;intervals-2"


#: The periods whose model tables the end of a scoring run stores (the dashboard's two charts as it opens: per outlet,
#: and per outlet and month); any other period is computed when read.
STORED_PERIODS = ("all", "month")


@dataclass(frozen=True)
class ScoreQuery:
    label: str
    source: str = "model"
    period: str = "all"
    outlet: str | None = None
    syndication: str = "per_outlet"

    def key(self) -> str:
        return hashlib.sha256(json.dumps(self.__dict__, sort_keys=True).encode()).hexdigest()


@dataclass
class ResolvedSource:
    source_key: str
    display: str
    version: ModelVersion | None


def resolve_source(*, project: Project, source: str, viewer: Viewer | None = None) -> ResolvedSource:
    """A score source by name (model, gold, annotator:<username>), as the viewer may read it.

    The visibility rule checks and resolves the name (``Viewer.score_source``: 403 for a layer or member the viewer
    may not see, names resolved among the project's members only). ``viewer=None`` is the system (jobs, snapshots):
    every source of the project, members' names resolved among its members too.
    """
    granted = (viewer or system_viewer(project=project)).score_source(source)
    if granted.name == "model":
        version = ModelVersion.objects.filter(project=project, is_active=True).first()
        if version is None:
            raise ApplicationError("This project has no active model version.", {"source": ["no active model"]})
        return ResolvedSource(model_source(version), "model", version)
    return ResolvedSource(granted.key, source, None)


def framing_scores_fingerprint(*, project: Project, resolved: ResolvedSource) -> str:
    """Changes whenever the source's scores change: every write (scoring chunk, human recount) stamps its rows'
    computed_at, so max(computed_at) moves; read from the (project, source, computed_at) index in O(log n).

    Rows only ever change through those services (delete + re-insert). Deleting articles outright does not move
    the marker; the next scoring or recount does (or delete the project's ScoreCache rows).
    """
    last = (
        ArticleScore.objects.filter(project=project, source=resolved.source_key)
        .order_by("-computed_at")
        .values_list("computed_at", flat=True)
        .first()
    )
    return hashlib.sha256(
        f"{resolved.source_key}|{last}|{project.bootstrap_resamples}|{project.random_seed}|{CORRECTION_VERSION}|"
        f"{time_zone_marker(project)}".encode()
    ).hexdigest()


def _label(project: Project, name: str) -> Label:
    label = Label.objects.filter(project=project, name=name).first()
    if label is None:
        raise ApplicationError("Unknown label.", {"label": [f"no label {name!r} in this project"]})
    return label


def _errors_for(version: ModelVersion | None, label: str) -> ClassifierErrors | None:
    """Cross-validated partial-match span counts of the version for this label: the pooled rate correction."""
    if version is None:
        return None
    m = ((version.metrics or {}).get("grouped_kfold") or {}).get("partial", {}).get(label)
    if not m or not m.get("tp_pred"):
        return None
    tp = int(m["tp_pred"])
    # The precision/recall ratio: on BABE it tracks the experts' per-outlet rates better than the adjusted count
    # (which assumes false positives per token are the same in every outlet); see docs/benchmarks.md.
    return ClassifierErrors(tp=tp, fp=int(m["n_pred"]) - tp, fn=int(m["n_gold"]) - int(m["tp_gold"]))


class _OutletStrata(StratifiedErrors):
    """Per-outlet errors for groups named ``outlet|period``: every period of an outlet gets the outlet's ratio."""

    def for_stratum(self, stratum):
        return super().for_stratum(str(stratum).partition("|")[0])


def _stratified_errors_for(version: ModelVersion | None, label: str) -> StratifiedErrors | None:
    """Per-outlet gold and out-of-fold predicted spans of each cross-validated article, when training stored them
    (versions trained before they were stored, or whose cross-validation has no span of the label, get None)."""
    if version is None:
        return None
    per_outlet = ((version.metrics or {}).get("grouped_kfold") or {}).get("per_outlet_spans")
    if not per_outlet or label not in per_outlet:
        return None
    strata, gold, predicted = [], [], []
    # In outlet order, not the stored dict's: PostgreSQL's jsonb and a snapshot's canonical JSON reorder keys, and
    # the seeded bootstrap must draw the same articles whatever the storage did.
    for outlet, counts in sorted(per_outlet[label].items()):
        strata += [outlet] * len(counts["gold"])
        gold += counts["gold"]
        predicted += counts["predicted"]
    try:
        return _OutletStrata(strata=strata, gold=gold, predicted=predicted)
    except ValueError:  # no gold or no predicted span of this label in cross-validation: no ratio to estimate
        return None


def _rate_correction(
    version: ModelVersion | None, label: str
) -> tuple[ClassifierErrors | StratifiedErrors | None, str]:
    """The correction framing-score rows use, and its name for their ``method``: per outlet when the version
    stored per-outlet counts, else pooled, else none."""
    stratified = _stratified_errors_for(version, label)
    if stratified is not None:
        return stratified, PER_OUTLET_CORRECTION
    pooled = _errors_for(version, label)
    return pooled, (POOLED_CORRECTION if pooled is not None else "")


def _comparison_correction(version: ModelVersion | None, label: str) -> tuple[ClassifierErrors | None, str]:
    """Comparisons keep the pooled ratio: with one factor per outlet the test of the uncorrected
    difference would no longer test the corrected one (ml.stats.comparison refuses StratifiedErrors)."""
    pooled = _errors_for(version, label)
    if pooled is None:
        return None, ""
    why = ""
    if _stratified_errors_for(version, label) is not None:
        why = f" (framing-score rates use the {PER_OUTLET_CORRECTION}; comparisons cannot)"
    return pooled, f"correction: {POOLED_CORRECTION}{why}"


def article_table(*, project: Project, resolved: ResolvedSource, label: Label, period: str, syndication: str) -> dict:
    """Per-article arrays for one label: outlet, period start, tokens, spans, probability sums."""
    if period not in PERIODS:
        raise ApplicationError("Unknown period.", {"period": [f"{period!r}: use one of {', '.join(PERIODS)}"]})
    if syndication not in SYNDICATION_RULES:
        raise ApplicationError(
            "Unknown syndication rule.", {"syndication": [f"use one of {', '.join(SYNDICATION_RULES)}"]}
        )
    rows = ArticleScore.objects.filter(project=project, source=resolved.source_key, label=label)
    if syndication == "exclude_wire":
        rows = rows.filter(article__is_wire_copy=False)
    # One join (score → article), only the columns this query needs, numpy arrays: about 1 s per million rows.
    rows = rows.order_by("article_id")
    once = syndication == "once"
    fields = ["article__outlet_id", "n_tokens", "n_spans"]
    if once:
        fields += ["article_id", "article__cluster_id", "article__cluster__representative_id"]
    *ints, score_sum = _int_columns(rows, fields)
    outlet_ids, n_tokens, n_spans = ints[:3]
    keep = None
    if once:
        keep = _one_article_per_cluster(article_ids=ints[3], clusters=ints[4], representatives=ints[5])
    periods = publication_periods(rows, period=period, n=len(outlet_ids), time_zone=project.time_zone)
    unique_ids, inverse = np.unique(outlet_ids, return_inverse=True)
    slug_by_id = dict(Outlet.objects.filter(pk__in=unique_ids.tolist()).values_list("pk", "slug"))
    outlets = np.array([slug_by_id[i] for i in unique_ids.tolist()], dtype=object)[inverse]
    if keep is not None:
        outlets, n_tokens, n_spans, score_sum = outlets[keep], n_tokens[keep], n_spans[keep], score_sum[keep]
        periods = [p for p, k in zip(periods, keep.tolist(), strict=True) if k]
    return {
        "outlet": outlets.tolist(),
        "period": periods,
        "n_tokens": n_tokens,
        "n_spans": n_spans,
        "score_sum": score_sum,
    }


def _one_article_per_cluster(
    *, article_ids: np.ndarray, clusters: np.ndarray, representatives: np.ndarray
) -> np.ndarray:
    """Keep articles outside clusters and each cluster's representative (its syndication source); when the
    representative is not among the scored articles, the cluster's lowest-id scored article stands for it."""
    keep = (clusters < 0) | (article_ids == representatives)
    in_cluster = np.flatnonzero(clusters >= 0)
    covered = set(clusters[keep & (clusters >= 0)].tolist())
    _, first = np.unique(clusters[in_cluster], return_index=True)
    for row in in_cluster[first].tolist():
        if int(clusters[row]) not in covered:
            keep[row] = True
    return keep


def publication_periods(
    rows: QuerySet, *, period: str, n: int, field: str = "article__published_at", time_zone: str = DEFAULT_TIME_ZONE
) -> list[str]:
    """The period (ISO date it starts) of each row's article publication, in the rows' order (``rows`` have an
    ``article`` foreign key, or are articles with ``field="published_at"``); all ``""`` for ``period="all"`` and for
    an article without a date. The one bucketing of framing and code scores.

    Dates fall into days, weeks and months in the article's outlet's time zone (``Outlet.time_zone``) or, where that
    is blank, in ``time_zone`` (the project's): a US outlet's article at 21:00 New York time on the 31st belongs to
    that day and month although it is the 1st in UTC. Converted in Python, per row, with one zone lookup per
    (zone, quarter hour), so it reads the same on PostgreSQL and SQLite.
    """
    if period == "all":
        return [""] * n
    outlet_zone = field[: -len("published_at")] + "outlet__time_zone"
    values = rows.values_list(field, outlet_zone)
    cache: dict = {}
    out = []
    for published, own_zone in values.iterator(chunk_size=20000):
        if published is None:
            out.append("")
            continue
        name = own_zone or time_zone
        stamp = published.timestamp() if published.tzinfo is not None else published.replace(tzinfo=UTC).timestamp()
        key = (name, int(stamp // 900))  # every zone's offset is a whole number of quarter hours
        if key not in cache:
            day = datetime.fromtimestamp(key[1] * 900, tz=zone(name)).date()
            cache[key] = _period_iso(day, period)
        out.append(cache[key])
    return out


def outlet_time_zones() -> dict[str, str]:
    """Outlets with a time zone of their own, by slug (few: most outlets take their project's)."""
    return dict(Outlet.objects.exclude(time_zone="").order_by("slug").values_list("slug", "time_zone"))


def time_zone_marker(project: Project) -> str:
    """Part of a score cache's fingerprint: periods move when the project's or an outlet's time zone changes."""
    return f"{project.time_zone}|{sorted(outlet_time_zones().items())}"


def periods_text(project: Project, outlets: list[str] | None = None) -> str:
    """How periods were bucketed, for a row's ``method``: the project's zone and any outlet's own."""
    own = outlet_time_zones()
    if outlets is not None:
        own = {slug: name for slug, name in own.items() if slug in set(outlets)}
    text = f"periods by publication date in {project.time_zone}"
    if own:
        text += " (outlets' own: " + ", ".join(f"{slug} in {name}" for slug, name in own.items()) + ")"
    return text


def _period_iso(day, period: str) -> str:
    start = period_start(day, granularity=period)
    return start.isoformat() if start else ""


def _int_columns(rows, fields: list[str]) -> list[np.ndarray]:
    """Integer columns (NULL → -1) and the float score_sum column, straight from the cursor (no per-row ORM work)."""
    sql, params = rows.values_list(*fields, "score_sum").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        data = cursor.fetchall()
    n = len(data)
    out = [
        np.fromiter((-1 if r[i] is None else r[i] for r in data), dtype=np.int64, count=n) for i in range(len(fields))
    ]
    out.append(np.fromiter((r[-1] or 0.0 for r in data), dtype=np.float64, count=n))
    return out


def framing_scores_key(query: ScoreQuery) -> str:
    return ("scores:" + query.key())[:64]  # ScoreCache.key is varchar(64): PostgreSQL rejects a longer one


def framing_scores(
    *, project: Project, query: ScoreQuery, use_cache: bool = True, viewer: Viewer | None = None
) -> list[dict]:
    """Rows {outlet, label, source, period_start, n_*, rate_per_1k (+CI), share (+CI), corrected, method…}; for a
    ``viewer``, only from a source they may read (``viewer=None``: the system). A table stored for the current counts
    is read back; anything else is computed, not stored."""
    resolved = resolve_source(project=project, source=query.source, viewer=viewer)
    label = _label(project, query.label)
    if use_cache:
        hit = (
            ScoreCache.objects.filter(
                project=project, key=framing_scores_key(query), fingerprint=framing_scores_fingerprint(
                    project=project, resolved=resolved)
            )
            .values_list("result", flat=True)
            .first()
        )  # fmt: skip
        if hit is not None:
            return hit["rows"]
    return framing_scores_compute(project=project, query=query, resolved=resolved, label=label)


def framing_scores_compute(
    *, project: Project, query: ScoreQuery, resolved: ResolvedSource, label: Label
) -> list[dict]:
    """The table of ``query`` computed from the per-article counts."""
    table = article_table(
        project=project, resolved=resolved, label=label, period=query.period, syndication=query.syndication
    )
    keys = [f"{o}|{p}" for o, p in zip(table["outlet"], table["period"], strict=True)]
    rows: list[dict] = []
    if keys:
        counts = ArticleCounts(
            groups=keys,
            n_tokens=table["n_tokens"],
            n_spans=table["n_spans"],
            score_sum=table["score_sum"] if resolved.version else None,
        )
        errors, correction = _rate_correction(resolved.version, label.name)
        periods = periods_text(project, sorted(set(table["outlet"])))
        estimates = group_rates(
            counts, errors=errors, n_resamples=project.bootstrap_resamples, seed=project.random_seed
        )
        for group, est in estimates.items():
            outlet, _, period_start_iso = str(group).partition("|")
            if query.outlet and outlet != query.outlet:
                continue
            applied, not_own = correction, None
            if isinstance(errors, StratifiedErrors):  # what was applied to this outlet: own, shrunk (w) or pooled
                stratum = errors.for_stratum(group)
                applied, not_own = f"{correction}: {stratum.method}", stratum.warning or None
            row = _score_row(
                est, outlet=outlet, period=period_start_iso, label=label.name, resolved=resolved, query=query,
                correction=applied,
            )  # fmt: skip
            if query.period != "all":
                row["method"] += f"; {periods}"
            if not_own and est.corrected_rate is not None:  # after any small-group warning of the row
                row["warning"] = "; ".join(w for w in (row["warning"], not_own) if w)
            rows.append(row)
    return json_safe(rows)  # an outlet with no tokens has an undefined rate: null, never NaN


def _score_row(
    est, *, outlet: str, period: str, label: str, resolved: ResolvedSource, query: ScoreQuery, correction: str
) -> dict:
    return {
        "outlet": outlet,
        "label": label,
        "source": resolved.display,
        "period": query.period,
        "period_start": period or None,
        "n_articles": est.n_articles,
        "n_tokens": est.n_tokens,
        "n_spans": est.n_spans,
        "rate_per_1k": est.rate,
        "rate_ci_low": est.rate_ci_low,
        "rate_ci_high": est.rate_ci_high,
        "share_articles": est.share,
        "share_ci_low": est.share_ci_low,
        "share_ci_high": est.share_ci_high,
        "corrected_rate_per_1k": est.corrected_rate,
        "corrected_rate_ci_low": est.corrected_rate_ci_low,
        "corrected_rate_ci_high": est.corrected_rate_ci_high,
        "model_version": resolved.version.number if resolved.version else None,
        "too_small": est.too_small,
        "warning": warning(est.n_articles),
        "method": f"{RATE_INTERVAL_TEXT} ({est.confidence:.0%}); corrected rates: percentile bootstrap over "
        f"articles, {est.n_resamples} resamples, seed {est.seed}; syndication={query.syndication}"
        + (f"; correction: {correction}" if correction and est.corrected_rate is not None else ""),
    }


def outlet_comparison(
    *, project: Project, label: str, source: str, a: str, b: str | None, syndication: str = "per_outlet",
    viewer: Viewer | None = None,
) -> dict:  # fmt: skip
    """Difference of rates between outlets a and b (or a vs the rest): bootstrap CI and studentized bootstrap p-value."""
    resolved = resolve_source(project=project, source=source, viewer=viewer)
    lab = _label(project, label)
    table = article_table(project=project, resolved=resolved, label=lab, period="all", syndication=syndication)
    counts = ArticleCounts(groups=table["outlet"], n_tokens=table["n_tokens"], n_spans=table["n_spans"])
    known = set(table["outlet"])
    if not known:
        why = " (a model scores only the labels it was trained on)" if resolved.version else ""
        raise ApplicationError(
            "Nothing to compare.", {"label": [f"no scores for {lab.name!r} from {resolved.display}{why}"]}
        )
    for name, value in (("a", a), ("b", b)):
        if value and value not in known:
            raise ApplicationError("Unknown outlet.", {name: [f"no scored articles for outlet {value!r}"]})
    errors, correction = _comparison_correction(resolved.version, lab.name)
    result = compare_groups(
        counts, group_a=a, group_b=b, errors=errors, n_resamples=project.bootstrap_resamples,
        seed=project.random_seed,
    )  # fmt: skip
    return _with_correction(result, correction)


def _with_correction(result, correction: str) -> dict:
    """A comparison's row: its fields, the method text naming the interval and the test, and the correction.
    With the pooled ratio (one factor for both outlets) "equal corrected rates" is "equal rates": the corrected
    difference has the same p-value."""
    row = result.to_dict()
    row["method"] = describe(result)
    if correction:
        row["method"] = f"{row['method']}; {correction} (its p-value is the uncorrected one: one factor for both)"
    return row


def outlet_comparison_table(
    *, project: Project, label: str, source: str, syndication: str = "per_outlet", viewer: Viewer | None = None
) -> list[dict]:
    resolved = resolve_source(project=project, source=source, viewer=viewer)
    lab = _label(project, label)
    table = article_table(project=project, resolved=resolved, label=lab, period="all", syndication=syndication)
    if len(set(table["outlet"])) < 2:
        return []
    counts = ArticleCounts(groups=table["outlet"], n_tokens=table["n_tokens"], n_spans=table["n_spans"])
    errors, correction = _comparison_correction(resolved.version, lab.name)
    results = pairwise_differences(
        counts, errors=errors, n_resamples=project.bootstrap_resamples, seed=project.random_seed
    )
    return [_with_correction(r, correction) for r in results]


def concept_get(*, project: Project, slug: str) -> Concept:
    concept = Concept.objects.filter(project=project, slug=slug).first()
    if concept is None:
        raise ApplicationError("Unknown concept.", {"concept": [f"no concept {slug!r}"]}, status_code=404)
    return concept


def concept_term_key(term: str) -> str:
    """Text as term choice matches it, a concept's terms and the articles alike: tokens, lower-cased, joined by one
    space (so a term matches whole words only)."""
    from ml.tokenise import iter_tokens

    return " ".join(w.lower() for _, _, w in iter_tokens(term))


def term_counts_by_outlet(*, project: Project, terms: list[str]) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Per-article counts of each term (whole-word, case-insensitive) over the project's corpus; terms with the
    same :func:`concept_term_key` get the same counts."""
    from annotator.corpus.models import Article
    from ml.matching import KeyMatcher

    keys = [concept_term_key(term) for term in terms]
    distinct = {key: i for i, key in enumerate(dict.fromkeys(keys))}
    column = np.array([distinct[key] for key in keys], dtype=np.int64)
    matcher = KeyMatcher([" " + key + " " for key in distinct])
    outlets, rows = [], []
    articles = Article.objects.filter(project_links__project=project).values_list("outlet__slug", "text")
    for outlet, text in articles.iterator(chunk_size=1000):
        norm = " " + concept_term_key(text) + " "
        outlets.append(outlet)
        rows.append(np.bincount(matcher.find(norm)["key"], minlength=len(distinct))[column])
    matrix = np.vstack(rows) if rows else np.zeros((0, len(terms)), dtype=np.int64)
    return outlets, terms, matrix, np.array(outlets)


def term_choice(*, project: Project, concept_slug: str, viewer: Viewer | None = None) -> list[dict]:
    """Share of each variant of a concept per outlet, with bootstrap CIs over articles (outlets: 403 for a viewer
    who may not learn them)."""
    from ml.stats import variant_shares

    if viewer is not None:
        viewer.require_outlets()
    concept = concept_get(project=project, slug=concept_slug)
    variants = [v["name"] for v in concept.variants]
    terms, owner = [], []
    for v_index, variant in enumerate(concept.variants):
        # a term written twice in a variant ("Rebels", "rebels") is counted once
        for term in dict.fromkeys(map(concept_term_key, variant.get("terms") or [variant["name"]])):
            terms.append(term)
            owner.append(v_index)
    outlets, _, matrix, _ = term_counts_by_outlet(project=project, terms=terms)
    per_variant = np.zeros((matrix.shape[0], len(variants)), dtype=np.int64)
    for t_index, v_index in enumerate(owner):
        per_variant[:, v_index] += matrix[:, t_index]
    if not outlets:
        return []
    shares = variant_shares(
        groups=outlets, counts=per_variant, variants=variants, n_resamples=project.bootstrap_resamples,
        seed=project.random_seed,
    )  # fmt: skip
    return [
        {
            "concept": concept.slug,
            "outlet": s.group,
            **{k: v for k, v in s.to_dict().items() if k != "group"},
            "warning": warning(s.n_articles_mentioning),
        }
        for s in shares
    ]


def distinctive_terms_for_outlet(
    *, project: Project, outlet: str, limit: int = 30, min_count: int = 3, viewer: Viewer | None = None
) -> list[dict]:
    """Words an outlet over- and under-uses against all others (Monroe et al. 2008 weighted log-odds)."""
    from annotator.corpus.models import Article
    from ml.stats import distinctive_terms
    from ml.tokenise import iter_tokens

    if viewer is not None:
        viewer.require_outlets()
    per_outlet: dict[str, Counter] = {}
    articles = Article.objects.filter(project_links__project=project).values_list("outlet__slug", "text")
    for slug, text in articles.iterator(chunk_size=1000):
        per_outlet.setdefault(slug, Counter()).update(w.lower() for _, _, w in iter_tokens(text))
    if outlet not in per_outlet:
        raise ApplicationError("Unknown outlet.", {"outlet": [f"no articles for outlet {outlet!r} in this project"]})
    total = Counter()
    for counts in per_outlet.values():
        total.update(counts)
    vocabulary = sorted(t for t, n in total.items() if n >= min_count)
    groups = sorted(per_outlet)
    matrix = np.array([[per_outlet[g][t] for t in vocabulary] for g in groups], dtype=np.int64)
    if len(groups) < 2 or not vocabulary:
        return []
    own = matrix[groups.index(outlet)].sum()
    if own == 0 or own == matrix.sum():  # the outlet (or every other outlet) has no word seen min_count times
        return []
    scores = distinctive_terms(counts=matrix, terms=vocabulary, groups=groups, group=outlet)
    top = scores[:limit] + scores[-limit:] if len(scores) > 2 * limit else scores
    return [{"outlet": outlet, **s.to_dict()} for s in top]


def concept_list(*, project: Project):
    """The project's concepts (term choice), by name."""
    return Concept.objects.filter(project=project).order_by("name")


def scoring_job_latest(*, project: Project):
    """The project's most recent scoring run (a Job), or None."""
    from annotator.common.models import Job

    return Job.objects.filter(project=project, kind=Job.Kind.SCORING).order_by("-created_at").first()


def predicted_answers(*, viewer: Viewer, article) -> dict:
    """The active version's predicted answers on an article, for the annotator page to pre-fill, as the scoring run
    stored them (``PredictedAnswers``; nothing is predicted here, so a web process never loads a classifier): per
    question the model learned that the project still has, the article's answer, or each sentence's.

    ``{"model_version": n, "answers": [{question_id, start_char, end_char, value, score, scores}]}``; ``value`` as an
    answer stores it (a list for multiple choice), ``score`` the model's probability of it (multiple choice: of
    each option, ``scores``). Readable by whoever reads the model's suggestions (the same layer rule);
    ``model_version`` is None and the list empty without an active version. Like the suggestions, the answers appear
    once a scoring run of the active version has covered the article: before that the list is empty."""
    if not viewer.sees_layer(Layer.SUGGESTION):
        raise Hidden(BLIND_LAYER, "layer")
    active = ModelVersion.objects.filter(project=viewer.project, is_active=True)
    version = active.only("number", "metrics", "project_id").first()
    if version is None:
        return {"model_version": None, "answers": []}
    stored = (
        PredictedAnswers.objects.filter(model_version=version, article=article)
        .values_list("answers", flat=True)
        .first()
    )
    out = []
    if stored:
        questions = {learned.question_id for learned in version_questions(version=version).values()}
        for question_id, start, end, value, score in stored:
            if question_id not in questions:  # deleted or renamed since the version was trained
                continue
            multiple = isinstance(score, dict)
            out.append(
                {
                    "question_id": question_id, "start_char": start, "end_char": end, "value": value,
                    "score": None if multiple else score, "scores": score if multiple else None,
                }
            )  # fmt: skip
    return {"model_version": version.number, "answers": out}
