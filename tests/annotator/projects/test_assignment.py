"""Balanced blind assignment: the pure planner (exact counts, overlap, clusters, strata, calibration, seeds)
and the service (rows, idempotency, the calibration gate on the queue)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from annotator.common.errors import ApplicationError
from annotator.corpus.models import StoryCluster
from annotator.projects.assignment import PlanArticle, assignment_preview, assignments_generate, plan_assignments
from annotator.projects.models import Assignment, Project, ProjectArticle, Role
from annotator.projects.selectors import assignment_queue
from annotator.projects.services import assignment_set_status, membership_add
from tests.annotator.projects.factories import make_article, make_outlet, make_project, make_user


def arts(n: int, *, strata=None, start: int = 1) -> list[PlanArticle]:
    return [PlanArticle(article_id=start + i, stratum=strata(i) if strata else ()) for i in range(n)]


class TestPlanner:
    def test_k2_with_half_overlap_exact_counts_and_balance(self):
        plan = plan_assignments(articles=arts(20), annotators=["a", "b", "c", "d"], k=2, overlap_fraction=0.5, seed=1)
        per_article = Counter(p.article_id for p in plan.new)
        assert len(plan.overlap_ids) == 10
        assert sorted(per_article.values()) == [1] * 10 + [2] * 10
        assert {a for a, n in per_article.items() if n == 2} == set(plan.overlap_ids)
        per_annotator = Counter(p.annotator for p in plan.new)
        assert sum(per_annotator.values()) == 30 and sorted(per_annotator.values()) == [7, 7, 8, 8]
        # nobody codes the same article twice
        assert len({(p.article_id, p.annotator) for p in plan.new}) == 30

    def test_overlap_one_means_every_article_gets_k(self):
        plan = plan_assignments(articles=arts(9), annotators=[1, 2, 3], k=3, overlap_fraction=1.0, seed=0)
        assert Counter(p.article_id for p in plan.new) == {i: 3 for i in range(1, 10)}

    def test_k_is_capped_by_the_number_of_annotators(self):
        plan = plan_assignments(articles=arts(4), annotators=[1, 2], k=5, overlap_fraction=1.0)
        assert Counter(p.article_id for p in plan.new) == {i: 2 for i in range(1, 5)}
        assert "only 2 annotator(s)" in plan.notes[0]

    def test_one_article_per_cluster_representative_or_earliest(self):
        articles = [
            PlanArticle(1, cluster_id=10, sort_key=(False, "2024-02-01", 1)),
            PlanArticle(2, cluster_id=10, sort_key=(False, "2024-01-01", 2)),  # earliest of cluster 10
            PlanArticle(3, cluster_id=20, sort_key=(False, "2024-01-01", 3)),
            PlanArticle(4, cluster_id=20, is_representative=True, sort_key=(False, "2024-05-01", 4)),
            PlanArticle(5),
            PlanArticle(6),
        ]
        plan = plan_assignments(articles=articles, annotators=["a", "b"], k=1, overlap_fraction=0.0)
        assert sorted(p.article_id for p in plan.new) == [2, 4, 5, 6]
        assert plan.cluster_duplicates == [1, 3]
        off = plan_assignments(
            articles=articles, annotators=["a", "b"], k=1, overlap_fraction=0.0, one_per_cluster=False
        )
        assert sorted(p.article_id for p in off.new) == [1, 2, 3, 4, 5, 6]

    def test_calibration_everyone_first_and_not_counted_in_balance(self):
        plan = plan_assignments(
            articles=arts(13), annotators=["a", "b", "c"], k=2, overlap_fraction=0.5, calibration_size=3, seed=7
        )
        assert len(plan.calibration_ids) == 3
        queues = plan.per_annotator()
        for who in "abc":
            assert [p.article_id for p in queues[who][:3]] == plan.calibration_ids
            assert all(p.is_calibration for p in queues[who][:3])
            assert not any(p.is_calibration for p in queues[who][3:])
        regular = Counter(p.annotator for p in plan.new if not p.is_calibration)
        # 10 regular articles, 5 with k=2: 15 regular assignments over 3 annotators
        assert sorted(regular.values()) == [5, 5, 5]
        assert not set(plan.calibration_ids) & {p.article_id for p in plan.new if not p.is_calibration}

    def test_stratified_mix_per_annotator(self):
        strata = lambda i: (f"outlet:{'abc'[i % 3]}",)  # noqa: E731
        plan = plan_assignments(articles=arts(30, strata=strata), annotators=[1, 2, 3], k=1, overlap_fraction=0.0)
        by_id = {a.article_id: a for a in arts(30, strata=strata)}
        for who, items in plan.per_annotator().items():
            mix = Counter(by_id[p.article_id].stratum for p in items)
            assert len(items) == 10 and max(mix.values()) - min(mix.values()) <= 1, (who, mix)
            assert len(mix) == 3

    def test_overlap_articles_spread_over_strata(self):
        strata = lambda i: (f"month:{'ab'[i % 2]}",)  # noqa: E731
        articles = arts(40, strata=strata)
        plan = plan_assignments(articles=articles, annotators=[1, 2], k=2, overlap_fraction=0.5, seed=3)
        by_id = {a.article_id: a for a in articles}
        assert Counter(by_id[i].stratum for i in plan.overlap_ids) == {("month:a",): 10, ("month:b",): 10}

    def test_reproducible_with_seed_and_different_without(self):
        kwargs = dict(articles=arts(30), annotators=[1, 2, 3, 4], k=2, overlap_fraction=0.3)
        a = plan_assignments(**kwargs, seed=42).new
        assert a == plan_assignments(**kwargs, seed=42).new
        assert a != plan_assignments(**kwargs, seed=43).new

    def test_idempotent_with_existing_and_new_annotator_gets_the_new_load(self):
        first = plan_assignments(articles=arts(10), annotators=[1, 2], k=1, overlap_fraction=0.0, seed=5)
        existing: dict[int, set] = {}
        for p in first.new:
            existing.setdefault(p.article_id, set()).add(p.annotator)
        again = plan_assignments(
            articles=arts(10), annotators=[1, 2], k=1, overlap_fraction=0.0, existing=existing, seed=5
        )
        assert again.new == []
        grown = plan_assignments(
            articles=arts(16), annotators=[1, 2, 3], k=1, overlap_fraction=0.0, existing=existing, seed=5
        )
        # 6 new articles go to the least-loaded annotator first: annotator 3 (0 so far) gets 5, then ties
        assert Counter(p.annotator for p in grown.new)[3] >= 5
        assert {p.article_id for p in grown.new} == set(range(11, 17))

    @pytest.mark.parametrize(
        "kwargs, message",
        [
            ({"k": 0}, "at least 1"),
            ({"overlap_fraction": 1.5}, "between 0 and 1"),
            ({"calibration_size": -1}, "0 or more"),
        ],
    )
    def test_bad_settings_are_clear_errors(self, kwargs, message):
        args = {"articles": arts(3), "annotators": [1], "k": 1, "overlap_fraction": 0.0, **kwargs}
        with pytest.raises(ApplicationError, match=message):
            plan_assignments(**args)


@pytest.mark.django_db
class TestService:
    def make_world(self, *, n_articles=12, n_annotators=3, **settings):
        owner = make_user()
        outlets = [make_outlet("North"), make_outlet("South")]
        articles = [
            make_article(
                text=f"Story number {i} about things.",
                title=f"Story {i}",
                outlet=outlets[i % 2],
                published_at=dt.datetime(2024, 1 + i % 3, 1, tzinfo=dt.UTC),
                metadata={"topic": "war" if i % 4 else "economy"},
            )
            for i in range(n_articles)
        ]
        annotators = [make_user() for _ in range(n_annotators)]
        project = make_project(owner=owner, articles=articles, annotators=annotators)
        for key, value in settings.items():
            setattr(project, key, value)
        project.save()
        return project, owner, articles, annotators

    def test_generate_writes_rows_flags_calibration_and_is_idempotent(self):
        project, owner, articles, annotators = self.make_world(
            annotators_per_article=2, overlap_fraction=0.5, calibration_size=2, stratify_by=["outlet", "month", "topic"]
        )
        summary = assignments_generate(project=project, by=owner)
        # 2 calibration x 3 annotators + 10 regular (5 doubled) = 6 + 15
        assert summary["created"] == 21 and summary["overlap_articles"] == 5
        assert ProjectArticle.objects.filter(project=project, is_calibration=True).count() == 2
        assert Assignment.objects.filter(project=project, is_calibration=True).count() == 6
        loads = Counter(
            Assignment.objects.filter(project=project, is_calibration=False).values_list("annotator", flat=True)
        )
        assert sorted(loads.values()) == [5, 5, 5]
        assert assignments_generate(project=project, by=owner)["created"] == 0
        # a new annotator: gets the calibration set; new articles prefer them
        newbie = make_user()
        membership_add(project=project, user=newbie, role=Role.ANNOTATOR, by=owner)
        extra = [make_article(text=f"Late story {i}.", title=f"Late {i}") for i in range(4)]
        from annotator.projects.services import project_add_articles
        from tests.annotator.projects.factories import grant_outlets

        grant_outlets(project, extra)
        project_add_articles(project=project, by=owner, article_ids=[a.pk for a in extra])
        summary = assignments_generate(project=project, by=owner)
        mine = Assignment.objects.filter(project=project, annotator=newbie)
        assert mine.filter(is_calibration=True).count() == 2
        assert summary["created"] == 2 + 6  # 4 new articles, 2 of them doubled, plus the newbie's calibration
        assert mine.filter(is_calibration=False).count() >= 2

    def test_preview_writes_nothing_and_is_what_generation_writes(self):
        project, owner, _, annotators = self.make_world(n_articles=12, n_annotators=3)
        preview = assignment_preview(
            project=project, annotators_per_article=2, overlap_fraction=0.5, calibration_size=2
        )
        assert not Assignment.objects.filter(project=project).exists()
        assert not ProjectArticle.objects.filter(project=project, is_calibration=True).exists()
        assert Project.objects.get(pk=project.pk).annotators_per_article == 1  # settings untouched
        assert preview["new_assignments"] == 21 and preview["overlap_articles"] == 5
        assert len(preview["calibration_articles"]) == 2 and preview["calibration_articles"][0]["title"].startswith(
            "Story"
        )
        assert [a["total"] for a in preview["annotators"]] == [7, 7, 7]
        assert [a["new_calibration"] for a in preview["annotators"]] == [2, 2, 2]
        summary = assignments_generate(
            project=project, by=owner, settings=preview["settings"], expected_plan=preview["plan"]
        )
        assert summary["created"] == 21
        project.refresh_from_db()
        assert (project.annotators_per_article, project.overlap_fraction, project.calibration_size) == (2, 0.5, 2)
        per_user = Counter(Assignment.objects.filter(project=project).values_list("annotator__username", flat=True))
        assert per_user == {a["username"]: a["total"] for a in preview["annotators"]}
        again = assignment_preview(project=project)
        assert again["new_assignments"] == 0 and [a["existing"] for a in again["annotators"]] == [7, 7, 7]

    def test_generation_refuses_a_plan_that_changed_since_the_preview(self):
        project, owner, _, _ = self.make_world(n_articles=6, n_annotators=2)
        preview = assignment_preview(project=project, annotators_per_article=2, overlap_fraction=1.0)
        membership_add(project=project, user=make_user(), role=Role.ANNOTATOR, by=owner)  # the plan changes
        with pytest.raises(ApplicationError) as err:
            assignments_generate(project=project, by=owner, settings=preview["settings"], expected_plan=preview["plan"])
        assert err.value.status_code == 409
        assert not Assignment.objects.filter(project=project).exists()
        assert Project.objects.get(pk=project.pk).annotators_per_article == 1  # the settings rolled back too

    def test_same_seed_same_rows(self):
        rows = []
        for _ in range(2):
            project, owner, articles, annotators = self.make_world(annotators_per_article=2, overlap_fraction=0.3)
            assignments_generate(project=project, by=owner, seed=99)
            index = {a.pk: i for i, a in enumerate(articles)}
            who = {u.pk: i for i, u in enumerate(annotators)}
            rows.append(
                sorted(
                    (index[a], who[u], p)
                    for a, u, p in Assignment.objects.filter(project=project).values_list(
                        "article_id", "annotator_id", "position"
                    )
                )
            )
        assert rows[0] == rows[1]

    def test_clusters_in_the_database(self):
        project, owner, articles, annotators = self.make_world(n_articles=6, n_annotators=2)
        cluster = StoryCluster.objects.create(representative=articles[3], size=3)
        for a in articles[1:4]:
            a.cluster = cluster
            a.save()
        assignments_generate(project=project, by=owner)
        assigned = set(Assignment.objects.filter(project=project).values_list("article_id", flat=True))
        assert articles[3].pk in assigned and articles[1].pk not in assigned and articles[2].pk not in assigned
        assert len(assigned) == 4

    def test_only_owner_and_bad_strata(self):
        project, owner, articles, annotators = self.make_world()
        curator = make_user()
        membership_add(project=project, user=curator, role=Role.CURATOR, by=owner)
        with pytest.raises(ApplicationError, match="owner"):
            assignments_generate(project=project, by=curator)
        project.stratify_by = ["weather"]
        project.save()
        with pytest.raises(ApplicationError, match="Unknown stratum 'weather'"):
            assignments_generate(project=project, by=owner)
        assert not Assignment.objects.filter(project=project).exists()

    def test_calibration_gate_hides_the_rest_of_the_queue(self):
        project, owner, articles, annotators = self.make_world(n_articles=6, n_annotators=2, calibration_size=2)
        assignments_generate(project=project, by=owner)
        ann = annotators[0]
        queue = assignment_queue(project=project, user=ann)
        calibration = sorted(
            ProjectArticle.objects.filter(project=project, is_calibration=True).values_list("article_id", flat=True)
        )
        assert sorted(i.article_id for i in queue.items) == calibration
        assert queue.hidden_until_calibrated == 2  # 4 regular articles over 2 annotators
        hidden = Assignment.objects.filter(project=project, annotator=ann, is_calibration=False).first()
        with pytest.raises(ApplicationError, match="not in your queue"):
            assignment_set_status(project=project, annotator=ann, article_id=hidden.article_id, status="done")
        for article_id in calibration:
            assignment_set_status(project=project, annotator=ann, article_id=article_id, status="done")
        queue = assignment_queue(project=project, user=ann)
        assert queue.total == 4 and queue.hidden_until_calibrated == 0
        assert [i.article_id for i in queue.items[:2]] == calibration  # calibration first in the queue
