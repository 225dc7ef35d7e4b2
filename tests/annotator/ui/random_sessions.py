"""Randomized annotation sessions in real browsers, with an independent model of what they should store.

Two annotators, each with two tabs of the same article (one browser context each, so each has one shared outbox);
a seeded random sequence of actions — create (sometimes a span the annotator already has), relabel, note, delete,
undo, redo, in any tab — while the network fails and recovers (a context goes offline, a tab's span requests answer
503). `Oracle` is the model: it applies the same actions with the page's rules written out again in Python (a span
once per annotator, offsets and label; each tab's own undo and redo stacks of inverse commands; a command on a span
that is gone, or that would make a duplicate, is refused and dropped). After every action every tab of the user must
show exactly the oracle's spans; at the end, with the network back, the server must hold exactly them: no duplicate,
none lost.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field

from annotator.annotations.models import Layer, Span
from tests.conftest import wait_for

MODEL_JS = """() => [...window.framescope.annotator.spans.values()]
    .map(s => [s.key, s.start, s.end, s.label_id, s.note || ""]).sort()"""
QUEUED_JS = "() => Object.keys(localStorage).filter(k => k.includes(':item:')).length"


@dataclass
class Tab:
    page: object
    undo: list = field(default_factory=list)
    redo: list = field(default_factory=list)


@dataclass
class Oracle:
    """One annotator's spans as the actions intend them: key -> [start, end, label id, note]."""

    spans: dict = field(default_factory=dict)

    def twin(self, start, end, label, key=None):
        return any(k != key and s[:3] == [start, end, label] for k, s in self.spans.items())

    def apply(self, cmd):
        """The page's `apply`: the inverse command, or None when refused (nothing changes)."""
        op, key = cmd[0], cmd[1]
        if op == "create":
            start, end, label, note = cmd[2]
            if self.twin(start, end, label, key):
                return None
            self.spans[key] = [start, end, label, note]
            return ("delete", key)
        if key not in self.spans:
            return None
        span = self.spans[key]
        if op == "delete":
            del self.spans[key]
            return ("create", key, list(span))
        data = cmd[2]
        if "label" in data and self.twin(span[0], span[1], data["label"], key):
            return None
        before = {f: span[2] if f == "label" else span[3] for f in data}
        if "label" in data:
            span[2] = data["label"]
        if "note" in data:
            span[3] = data["note"]
        return ("update", key, before)

    def rows(self):
        return sorted([k, *s] for k, s in self.spans.items())


def page_cmd(cmd) -> dict:
    """An oracle command as the page's `exec` takes it."""
    if cmd[0] == "create":
        start, end, label, note = cmd[2]
        return {"op": "create", "span": {"key": cmd[1], "start": start, "end": end, "label_id": label, "note": note}}
    if cmd[0] == "delete":
        return {"op": "delete", "key": cmd[1]}
    return {"op": "update", "key": cmd[1], "data": cmd[2]}


class Session:
    """One seeded run: `users` is [(context, [page, page], user)], all on `article`."""

    def __init__(self, *, seed: int, users, article, label_ids):
        self.rng = random.Random(seed)
        self.seed = seed
        self.users = [(context, [Tab(p) for p in pages], user, Oracle()) for context, pages, user in users]
        self.article = article
        self.label_ids = label_ids
        self.words = [(m.start(), m.end()) for m in re.finditer(r"\w+", article.text)]
        self.offline = {id(context): False for context, *_ in self.users}
        self.failing = set()
        self.counter = 0
        self.counts = Counter()  # what the session did, for the report

    def fail(self, step, message):
        raise AssertionError(f"seed {self.seed}, step {step}: {message}")

    def in_sync(self, tabs, oracle, step):
        want = oracle.rows()
        for n, tab in enumerate(tabs):
            wait_for(lambda t=tab: t.page.evaluate(MODEL_JS) == want, timeout=15,
                     what=f"seed {self.seed} step {step}: tab {n} to show {want}")  # fmt: skip

    def toggle_network(self, context, tabs):
        self.counts["network toggle"] += 1
        if self.rng.random() < 0.5:
            self.offline[id(context)] = not self.offline[id(context)]
            context.set_offline(self.offline[id(context)])
            return
        page = self.rng.choice(tabs).page
        if id(page) in self.failing:
            page.unroute("**/spans/**")
            self.failing.discard(id(page))
        else:
            page.route("**/spans/**", lambda r: r.fulfill(status=503, content_type="application/json",
                                                          body='{"detail": "Service unavailable."}'))  # fmt: skip
            self.failing.add(id(page))

    def new_span(self, oracle):
        if oracle.spans and self.rng.random() < 0.15:  # the same span again: must be refused
            start, end, label, _ = self.rng.choice(list(oracle.spans.values()))
            return start, end, label
        first = self.rng.randrange(len(self.words))
        last = min(len(self.words) - 1, first + self.rng.randrange(3))
        return self.words[first][0], self.words[last][1], self.rng.choice(self.label_ids)

    def act(self, step):
        context, tabs, _, oracle = self.rng.choice(self.users)
        tab = self.rng.choice(tabs)
        roll = self.rng.random()
        if roll < 0.1:
            return self.toggle_network(context, tabs)
        if roll < 0.38 or not oracle.spans and roll < 0.7:
            self.counter += 1
            start, end, label = self.new_span(oracle)
            cmd = ("create", f"r{self.seed}-{self.counter}", [start, end, label, ""])
            self.record(tab, tabs, oracle, cmd, fresh=True)
        elif roll < 0.7:
            key = self.rng.choice(sorted(oracle.spans))
            if roll < 0.5:
                others = [lb for lb in self.label_ids if lb != oracle.spans[key][2]]
                cmd = ("update", key, {"label": self.rng.choice(others)})
            elif roll < 0.58:
                cmd = ("update", key, {"note": f"note {step}"})
            else:
                cmd = ("delete", key)
            self.record(tab, tabs, oracle, cmd, fresh=True)
        else:
            undo = roll < 0.86
            stack, other = (tab.undo, tab.redo) if undo else (tab.redo, tab.undo)
            self.counts["undo" if undo else "redo"] += 1
            if stack:
                inverse = oracle.apply(stack.pop())
                if inverse is not None:
                    other.append(inverse)
                else:
                    self.counts["refused"] += 1
            tab.page.evaluate(f"() => window.framescope.annotator.{'undo' if undo else 'redo'}()")
        self.in_sync(tabs, oracle, step)

    def record(self, tab, tabs, oracle, cmd, *, fresh):
        self.counts["relabel" if "label" in (cmd[2] if cmd[0] == "update" else {}) else
                    "note" if cmd[0] == "update" else cmd[0]] += 1  # fmt: skip
        inverse = oracle.apply(cmd)
        if inverse is not None:
            tab.undo.append(inverse)
            tab.redo.clear()
        else:
            self.counts["refused"] += 1
        tab.page.evaluate("(cmd) => window.framescope.annotator.exec(cmd)", page_cmd(cmd))

    def finish(self):
        """Network back everywhere; wait for every outbox to drain; the server holds exactly the oracle's spans."""
        for context, tabs, _, _ in self.users:
            context.set_offline(False)
            for tab in tabs:
                if id(tab.page) in self.failing:
                    tab.page.unroute("**/spans/**")
            for tab in tabs:
                tab.page.evaluate("() => window.framescope.annotator.outbox.pump()")
        for _, tabs, user, oracle in self.users:
            wait_for(lambda t=tabs[0]: t.page.evaluate(QUEUED_JS) == 0, timeout=90,
                     what=f"seed {self.seed}: {user.username}'s outbox to drain")  # fmt: skip
            want = sorted(tuple(s) for s in oracle.spans.values())

            def stored(user=user):
                rows = Span.objects.filter(article=self.article, annotator=user, layer=Layer.ANNOTATOR)
                return sorted(rows.values_list("start_char", "end_char", "label_id", "note"))

            wait_for(lambda s=stored, w=want: [tuple(r) for r in s()] == w, timeout=30,
                     what=f"seed {self.seed}: {user.username}'s stored spans {want}")  # fmt: skip
            got = stored()
            assert len(got) == len(set(got)), f"seed {self.seed}: duplicates stored for {user.username}"

    def run(self, n_actions: int) -> Counter:
        for step in range(n_actions):
            self.act(step)
        self.finish()
        self.counts["spans stored"] = sum(len(oracle.spans) for *_, oracle in self.users)
        return self.counts
