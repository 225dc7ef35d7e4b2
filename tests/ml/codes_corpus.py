"""A small generated corpus for the question-classifier tests: answers depend on words, with noise."""

from __future__ import annotations

import numpy as np

LOADED = ["radical", "disgraceful", "outrageous", "reckless", "shameful", "extremist", "sham", "thugs"]
NEUTRAL = ["said", "announced", "reported", "met", "stated", "published", "noted", "added"]
FILLER = "the of a to and in on for with at by from council minister plan week city report".split()
FRAMES = {"economic": ["tax", "jobs", "wages", "budget"], "crime": ["police", "court", "arrest", "prison"]}


def generated(n: int, *, seed: int = 0, noise: float = 0.1):
    """Texts, single answers (Biased / Non-biased), loaded-word spans, article ids and outlets."""
    rng = np.random.RandomState(seed)
    texts, answers, spans, articles, outlets = [], [], [], [], []
    for i in range(n):
        biased = rng.rand() < 0.5
        words = list(rng.choice(FILLER, size=12))
        cue = rng.choice(LOADED if biased else NEUTRAL)
        words.insert(int(rng.randint(1, 12)), cue)
        text = " ".join(words).capitalize() + "."
        start = text.lower().index(f" {cue} ") + 1 if f" {cue} " in text.lower() else text.lower().index(cue)
        label = "Biased" if biased != (rng.rand() < noise) else "Non-biased"
        texts.append(text)
        answers.append(label)
        spans.append([(start, start + len(cue), "loaded")] if biased else [])
        articles.append(f"a{i // 2}")
        outlets.append(f"outlet{i % 3}")
    return texts, answers, spans, articles, outlets


def frames(n: int, *, seed: int = 0):
    """Texts and multiple-choice answers (economic / crime / both / none)."""
    rng = np.random.RandomState(seed)
    texts, answers = [], []
    for _ in range(n):
        chosen = {f for f in FRAMES if rng.rand() < 0.4}
        words = list(rng.choice(FILLER, size=10))
        for f, slot in zip(sorted(chosen), rng.choice(len(words), size=2, replace=False), strict=False):
            words[slot] = rng.choice(FRAMES[f])  # replaced, not inserted: the length says nothing
        texts.append(" ".join(words))
        answers.append(chosen)
    return texts, answers


def tones(n: int, *, seed: int = 0):
    """Texts and points of a tone scale -2 .. 2 (the number of "good" minus "bad" words, clipped)."""
    rng = np.random.RandomState(seed)
    texts, answers = [], []
    for _ in range(n):
        tone = int(rng.randint(-2, 3))
        words = list(rng.choice(FILLER, size=10))
        cue = ["good"] * tone if tone > 0 else ["bad"] * -tone
        for w, slot in zip(cue, rng.choice(len(words), size=2, replace=False), strict=False):
            words[slot] = w
        texts.append(" ".join(words))
        answers.append(str(tone))
    return texts, answers
