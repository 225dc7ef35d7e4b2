"""A small labelled corpus with known framing habits, built with the ORM for training and scoring tests."""

from __future__ import annotations

import random

from annotator.annotations.models import Adjudication, Layer, Span
from annotator.projects.models import Label
from tests.annotator.projects.factories import make_article, make_outlet, make_project

NEUTRAL = (
    "officials said talks continued on monday while residents waited for aid convoys near the town and "
    "the ministry reported that roads remained closed after heavy rain in the province"
).split()
HABITS = {
    "Herald": ["terrorists", "liberated", "takfiri"],
    "Courier": ["rebels", "regime"],
    "Ledger": ["militants"],
}
LOADED = {"terrorists", "liberated", "takfiri", "regime"}


def synthetic_project(*, n_per_outlet: int = 12, seed: int = 7, gold_fraction: float = 1.0, owner=None):
    """Articles whose loaded words are gold-labelled 'loaded term'; returns (project, articles)."""
    rng = random.Random(seed)
    articles = []
    for outlet_name, words in HABITS.items():
        outlet = make_outlet(outlet_name)
        for i in range(n_per_outlet):
            tokens = [rng.choice(NEUTRAL) for _ in range(60)]
            for _ in range(rng.randint(1, 4)):
                tokens.insert(rng.randrange(len(tokens)), rng.choice(words))
            text = " ".join(tokens).capitalize() + "."
            articles.append(make_article(text=text, title=f"{outlet_name} story {i}", outlet=outlet))
    project = make_project(owner=owner, articles=articles)
    label = Label.objects.get(project=project, name="loaded term")
    rows = []
    for article in articles[: int(len(articles) * gold_fraction)]:
        for word in LOADED:
            start = 0
            while (pos := _find_word(article.text, word, start)) >= 0:
                rows.append(
                    Span(
                        project=project, article=article, layer=Layer.GOLD, label=label,
                        start_char=pos, end_char=pos + len(word), text=article.text[pos : pos + len(word)],
                    )
                )  # fmt: skip
                start = pos + len(word)
    Span.objects.bulk_create(rows)
    Adjudication.objects.bulk_create(
        [
            Adjudication(project=project, article=a, status=Adjudication.Status.DONE)
            for a in articles[: int(len(articles) * gold_fraction)]
        ]
    )
    return project, articles


def _find_word(text: str, word: str, start: int) -> int:
    lowered = text.lower()
    while (pos := lowered.find(word, start)) >= 0:
        before = lowered[pos - 1] if pos else " "
        after = lowered[pos + len(word)] if pos + len(word) < len(lowered) else " "
        if not before.isalnum() and not after.isalnum():
            return pos
        start = pos + 1
    return -1
