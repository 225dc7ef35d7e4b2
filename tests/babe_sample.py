"""A small file in BABE's format, made by the tests, so that no unit test needs the real (AGPL) data set.

It has what the real ``final_labels_SG2.csv`` has and a reader must get right: ``;`` as separator, a header row,
cells quoted because they hold ``;`` or ``"``, curly quotes, ``biased_words`` as a Python list literal (empty,
several words, a phrase, a word found twice, a word found nowhere), the three ``label_bias`` values including
"No agreement", and several sentences from one article (one ``news_link``). The text is invented.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

HEADER = ("text", "news_link", "outlet", "topic", "type", "label_bias", "label_opinion", "biased_words")

OPINION = "Expresses writer’s opinion"
SOMEWHAT = "Somewhat factual but also opinionated"
FACTUAL = "Entirely factual"


@dataclass(frozen=True)
class SampleRow:
    text: str
    news_link: str
    outlet: str
    topic: str
    type: str
    label_bias: str
    label_opinion: str
    biased_words: tuple[str, ...]
    found: tuple[str, ...]  # what the spans of this row must cover, in text order (every occurrence)
    not_found: tuple[str, ...] = ()

    def cells(self) -> list[str]:
        words = repr(list(self.biased_words)) if self.biased_words else "[]"
        return [self.text, self.news_link, self.outlet, self.topic, self.type, self.label_bias, self.label_opinion,
                words]  # fmt: skip


ROWS: tuple[SampleRow, ...] = (
    SampleRow(
        "The regime’s thugs stormed the square; witnesses called it “brutal”.",
        "https://news.example.org/a/1", "Daily Beacon", "protests", "right", "Biased", OPINION,
        ("thugs", "brutal"), ("thugs", "brutal"),
    ),
    SampleRow(
        "Officials met on Tuesday to discuss the budget.",
        "https://news.example.org/a/1", "Daily Beacon", "protests", "right", "Non-biased", FACTUAL, (), (),
    ),
    SampleRow(
        'Critics said the "radical" plan was radical, reckless and doomed.',
        "https://wire.example.org/b/2", "Morning Wire", "economy", "left", "Biased", SOMEWHAT,
        ("radical", "reckless", "demonize"), ("radical", "radical", "reckless"), ("demonize",),
    ),
    SampleRow(
        "Lawmakers passed the bill 52 to 48.",
        "https://wire.example.org/b/3", "Morning Wire", "economy", "left", "No agreement", FACTUAL, (), (),
    ),
    SampleRow(
        "So-called experts pushed a far-left agenda, a fringe idea.",
        "https://post.example.org/c/4", "The Evening Post", "education", "center", "Biased", OPINION,
        ("far-left agenda", "fringe", "so-called"), ("So-called", "far-left agenda", "fringe"),
    ),
    SampleRow(
        "The report, released Monday; runs to 40 pages.",
        "https://post.example.org/c/5", "The Evening Post", "education", "center", "Non-biased", FACTUAL, (), (),
    ),
    SampleRow(
        "Residents described the flooding as a disaster.",
        "https://post.example.org/c/6", "The Evening Post", "environment", "center", "No agreement", SOMEWHAT,
        ("catastrophe",), (), ("catastrophe",),
    ),
)  # fmt: skip


def write_babe_sample(path: Path, rows: tuple[SampleRow, ...] = ROWS, *, bom: bool = False) -> Path:
    """Write ``rows`` the way BABE's file is written (``;``, minimal quoting); with ``bom`` as the original has."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(row.cells() for row in rows)
    return path


def babe_sample_rows(n_articles: int, *, seed: int = 0) -> tuple[SampleRow, ...]:
    """A larger sample for the command-line and model tests: ``n_articles`` articles of 1–3 sentences each."""
    import random

    rng = random.Random(seed)
    loaded = ["thugs", "radical", "reckless", "fringe", "disastrous", "so-called", "slammed", "extreme"]
    neutral = ["officials", "reported", "the", "council", "said", "on", "tuesday", "budget", "meeting", "plan"]
    outlets = [("Daily Beacon", "right"), ("Morning Wire", "left"), ("The Evening Post", "center")]
    rows = []
    for number in range(n_articles):
        outlet, leaning = outlets[number % len(outlets)]
        link = f"https://news.example.org/{number}"
        for _ in range(rng.randint(1, 3)):
            words = [rng.choice(neutral) for _ in range(rng.randint(6, 14))]
            marked = rng.sample(loaded, rng.randint(0, 2))
            for word in marked:
                words.insert(rng.randrange(len(words) + 1), word)
            text = " ".join(words).capitalize() + "."
            bias = "Biased" if marked else rng.choice(["Non-biased", "Non-biased", "No agreement"])
            in_order = tuple(sorted(marked, key=text.lower().index))
            rows.append(SampleRow(text, link, outlet, "politics", leaning, bias, OPINION if marked else FACTUAL,
                                  tuple(marked), in_order))  # fmt: skip
    return tuple(rows)
