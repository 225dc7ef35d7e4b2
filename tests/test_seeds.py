"""The seed article copy and the invented demo corpus: well-formed, in sync with their builder, framing habits hold."""

import csv
import hashlib
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from ml.tokenise import iter_tokens
from tests.conftest import SEED_ARTICLE

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SEED_SHA256 = "b80422d312ee4eedbba9e3b06b8829f6b38dc90d4650efade950a390a9b19c4d"
JSONL = SEEDS / "demo_corpus.jsonl"
REQUIRED_FIELDS = ("outlet", "title", "text", "url", "published_at", "external_id", "byline", "topic", "invented")
HERALD_STYLE = ("terrorist", "takfiri", "liberat")
ALL_LOADED = (*HERALD_STYLE, "foreign-sponsored", "mercenar", "rebel", "regime", "revolution", "militant", "insurgen")
HERALD = "The Levant Herald"
WIRE = "Wire Service Daily"


@pytest.fixture(scope="module")
def records() -> list[dict]:
    rows = []
    for number, line in enumerate(JSONL.read_text(encoding="utf-8").splitlines(), start=1):
        value = json.loads(line)
        assert isinstance(value, dict), f"line {number} is not a JSON object"
        rows.append(value)
    return rows


def loaded_rate(texts: list[str], stems: tuple[str, ...]) -> float:
    """Words starting with one of the stems, per 1,000 words."""
    words = [word.lower() for text in texts for _, _, word in iter_tokens(text)]
    assert words, "no words"
    return 1000 * sum(word.startswith(stems) for word in words) / len(words)


def test_seed_article_copy_is_byte_identical_to_the_original():
    """The committed copy is the seed article byte for byte (SHA-256 of ../shared/seeds/000_348df739ac9c7c1b.txt)."""
    digest = hashlib.sha256(SEED_ARTICLE.read_bytes()).hexdigest()
    assert digest == SEED_SHA256


def test_demo_corpus_shape(records):
    assert len(records) >= 40
    outlets = Counter(r["outlet"] for r in records)
    assert len(outlets) >= 4 and min(outlets.values()) >= 8, outlets
    for r in records:
        missing = [f for f in REQUIRED_FIELDS if f not in r]
        assert not missing, f"{r.get('external_id')}: missing {missing}"
        assert r["invented"] is True, r["external_id"]
        assert r["url"].split("/")[2].endswith((".example.org", ".invalid")), r["url"]
        n_words = sum(1 for _ in iter_tokens(r["text"]))
        assert 110 <= n_words <= 260, f"{r['external_id']}: {n_words} words"
    ids = [r["external_id"] for r in records]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    months = {r["published_at"][:7] for r in records}
    assert len(months) >= 2


def test_published_at_is_iso_8601_with_offset(records):
    from datetime import datetime

    for r in records:
        assert datetime.fromisoformat(r["published_at"]).tzinfo is not None, r["published_at"]


def test_wire_copies_are_near_duplicates_of_their_source(records):
    by_id = {r["external_id"]: r for r in records}
    copies = [r for r in records if "republished_from" in r]
    assert len(copies) >= 6
    sources = Counter(r["republished_from"] for r in copies)
    assert len(sources) >= 3 and all(n == 2 for n in sources.values()), sources
    for copy in copies:
        source = by_id[copy["republished_from"]]
        assert source["outlet"] == WIRE and copy["outlet"] != WIRE
        a = {w.lower() for _, _, w in iter_tokens(source["text"])}
        b = {w.lower() for _, _, w in iter_tokens(copy["text"])}
        assert copy["text"] != source["text"]
        assert len(a & b) / len(a | b) > 0.85, copy["external_id"]


def test_framing_habits_herald_most_loaded_wire_least(records):
    def texts(outlet: str) -> list[str]:
        return [r["text"] for r in records if r["outlet"] == outlet and "republished_from" not in r]

    outlets = {r["outlet"] for r in records}
    rates = {outlet: loaded_rate(texts(outlet), HERALD_STYLE) for outlet in outlets}
    assert rates[HERALD] > 5 * rates[WIRE], rates
    assert rates[HERALD] == max(rates.values()), rates
    # Over every outlet's loaded vocabulary together, the Herald is highest and the wire lowest.
    overall = {outlet: loaded_rate(texts(outlet), ALL_LOADED) for outlet in outlets}
    assert overall[HERALD] == max(overall.values()) and overall[WIRE] == min(overall.values()), overall
    # Each partisan outlet has its own vocabulary that the wire avoids.
    assert loaded_rate(texts("Coastal Courier"), ("rebel", "regime")) > 5 * loaded_rate(
        texts(WIRE), ("rebel", "regime")
    )
    assert loaded_rate(texts("Northern Ledger"), ("militant", "insurgen")) > 5 * max(
        loaded_rate(texts(WIRE), ("militant", "insurgen")), 0.1
    )


def test_csv_and_txt_demo_files():
    with (SEEDS / "demo_corpus.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6
    assert set(REQUIRED_FIELDS) <= set(rows[0])
    assert any("," in r["text"] and '"' in r["text"] and "\n" in r["text"] for r in rows)
    assert all(r["invented"] == "true" for r in rows)
    txt_files = sorted((SEEDS / "demo_txt").glob("*.txt"))
    assert len(txt_files) == 3
    for path in txt_files:
        title, _, body = path.read_text(encoding="utf-8").partition("\n")
        assert title.strip() and len(body.split()) >= 20, path.name


def test_generated_files_match_the_builder():
    spec = importlib.util.spec_from_file_location("build_demo_corpus", SEEDS / "build_demo_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    for path, content in module.expected_files().items():
        assert path.read_text(encoding="utf-8") == content, f"{path.name} is stale: run seeds/build_demo_corpus.py"


@pytest.mark.parametrize(
    ("path", "fmt", "expected"),
    [("demo_corpus.jsonl", "jsonl", 49), ("demo_corpus.csv", "csv", 6), ("demo_txt", "txt", 3)],
)
def test_importer_accepts_every_row(path, fmt, expected):
    from annotator.corpus.importing.parsers import parse_row
    from annotator.corpus.importing.readers import READERS

    reader = READERS[fmt](SEEDS / path, max_decompressed_bytes=10**8)
    parsed = [parse_row(raw, default_outlet=HERALD) for raw in reader.rows()]
    assert len(parsed) == expected
    if fmt != "txt":
        assert all(row.metadata.get("invented") in (True, "true") and row.metadata.get("topic") for row in parsed)
