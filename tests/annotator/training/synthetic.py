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


TONE_OPTIONS = [{"value": "hostile", "text": "Hostile"}, {"value": "neutral", "text": "Neutral"}]
HOSTILE_WORDS = ("terrorists", "regime")


def tone_of(text: str) -> str:
    """The synthetic truth of the `tone` question: hostile when the article uses a hostile word."""
    return "hostile" if any(_find_word(text, word, 0) >= 0 for word in HOSTILE_WORDS) else "neutral"


def add_tone_question(project, articles, *, layer: str = "gold", name: str = "tone", annotator=None):
    """An article question `tone` (hostile / neutral) whose gold (or one annotator's) answer follows the words."""
    from annotator.annotations.answers import AnswerRow, answers_import
    from annotator.projects.questions import question_create

    question = question_create(project=project, name=name, prompt="Tone toward the government?", options=TONE_OPTIONS)
    rows = [
        AnswerRow(article_id=a.pk, question=name, value=tone_of(a.text), layer=layer,
                  annotator_id=annotator.pk if annotator else None)
        for a in articles
    ]  # fmt: skip
    result = answers_import(project=project, rows=rows)
    assert not result.errors, result.errors
    return question


BIAS_OPTIONS = [{"value": "Biased", "text": "Biased"}, {"value": "Non-biased", "text": "Non-biased"}]
FRAME_OPTIONS = [
    {"value": "security", "text": "Security"},
    {"value": "economy", "text": "Economy"},
    {"value": "other", "text": "Other"},
]
SECURITY_WORDS = ("troops", "attack")
ECONOMY_WORDS = ("prices", "jobs")


def biased_of(sentence: str) -> str:
    return "Biased" if any(_find_word(sentence, word, 0) >= 0 for word in LOADED) else "Non-biased"


def frames_of(text: str) -> list[str]:
    found = []
    if any(_find_word(text, w, 0) >= 0 for w in SECURITY_WORDS):
        found.append("security")
    if any(_find_word(text, w, 0) >= 0 for w in ECONOMY_WORDS):
        found.append("economy")
    return found or ["other"]


def sentence_corpus(*, n_per_outlet: int = 12, seed: int = 7, owner=None):
    """Articles of 2-5 sentences, some with loaded words, some about security or the economy; returns
    (project, articles). No answers yet: add_sentence_questions answers them."""
    rng = random.Random(seed)
    articles = []
    extra = {"security": list(SECURITY_WORDS), "economy": list(ECONOMY_WORDS)}
    for outlet_name, words in HABITS.items():
        outlet = make_outlet(outlet_name)
        for i in range(n_per_outlet):
            sentences = []
            topic = rng.choice(["security", "economy", "both", "none"])
            for _ in range(rng.randint(2, 5)):
                tokens = [rng.choice(NEUTRAL) for _ in range(rng.randint(8, 14))]
                if rng.random() < 0.4:
                    tokens.insert(rng.randrange(len(tokens)), rng.choice(words))
                for name in ("security", "economy"):
                    if topic in (name, "both") and rng.random() < 0.5:
                        tokens.insert(rng.randrange(len(tokens)), rng.choice(extra[name]))
                sentences.append(" ".join(tokens).capitalize() + ".")
            text = " ".join(sentences)
            articles.append(make_article(text=text, title=f"{outlet_name} report {i}", outlet=outlet))
    return make_project(owner=owner, articles=articles), articles


def add_sentence_questions(project, articles):
    """A sentence question `bias` and a multiple-choice article question `frames`, answered in the gold layer."""
    from annotator.annotations.answers import AnswerRow, answers_import
    from annotator.annotations.selectors import article_sentences
    from annotator.projects.questions import question_create

    question_create(project=project, name="bias", prompt="Is the sentence biased?", scope="sentence",
                    options=BIAS_OPTIONS)  # fmt: skip
    question_create(project=project, name="frames", prompt="Frames", kind="multiple", options=FRAME_OPTIONS)
    rows = []
    for a in articles:
        for s in article_sentences(article=a):
            sentence = a.text[s.start_char : s.end_char]
            rows.append(AnswerRow(article_id=a.pk, question="bias", value=biased_of(sentence), layer="gold",
                                  start_char=s.start_char, end_char=s.end_char))  # fmt: skip
        rows.append(AnswerRow(article_id=a.pk, question="frames", value=frames_of(a.text), layer="gold"))
    result = answers_import(project=project, rows=rows)
    assert not result.errors, result.errors
