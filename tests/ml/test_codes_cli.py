"""`python -m ml train-codes` / `predict-codes` on a generated file in BABE's format, and on the real data."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ml.babe import COLUMNS
from tests.ml.codes_corpus import generated

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ml", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def write_babe(path: Path, n: int, *, seed: int) -> list[dict]:
    """A file as BABE writes it: semicolons, quoted fields (with quotes and semicolons inside), "No agreement"."""
    texts, answers, spans, articles, outlets = generated(n, seed=seed)
    rows = []
    for i, (text, answer, doc, article, outlet) in enumerate(
        zip(texts, answers, spans, articles, outlets, strict=True)
    ):
        text = f'{text[:-1]}; "quoted", said one.' if i % 5 == 0 else text
        words = [text[s:e] for s, e, _ in doc]
        rows.append(
            {"text": text, "news_link": f"https://example.org/{article}", "outlet": outlet, "topic": "t",
             "type": "left", "label_bias": answer, "label_opinion": "Entirely factual", "biased_words": repr(words)}
        )  # fmt: skip
    rows[3]["label_bias"] = rows[7]["label_bias"] = "No agreement"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    return rows


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("codes")
    train, test = folder / "train.csv", folder / "test.csv"
    write_babe(train, 200, seed=0)
    rows = write_babe(test, 40, seed=1)
    model = folder / "model"
    result = run("train-codes", "--format", "babe", str(train), "--out", str(model), "--cv", "3")
    return result, model, test, rows


def test_train_codes_learns_bias_and_reports_the_skipped_rows(trained):
    result, model, _, _ = trained
    assert result.returncode == 0, result.stderr
    assert "bias: trained on 198 texts, answers ['Biased', 'Non-biased']" in result.stdout
    assert "2 skipped" in result.stdout
    assert "2 row(s) skipped, no usable answer ('No agreement' × 2)" in result.stderr
    manifest = json.loads((model / "manifest.json").read_text())
    bias = manifest["codes"]["bias"]
    assert bias["answers"] == ["Biased", "Non-biased"] and bias["metrics"]["cv"]["n_folds"] == 3
    assert bias["metrics"]["cv"]["pooled"]["macro_f1"] > 0.8 and bias["span_labels"] == ["loaded"]


def test_predict_codes_writes_one_line_per_input_row_in_order(trained):
    _, model, test, rows = trained
    result = run("predict-codes", "--model", str(model), "--format", "babe", str(test))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in records] == [row["text"] for row in rows]  # "No agreement" rows too
    assert all(set(r["codes"]) == {"bias"} and set(r["codes"]["bias"]) == {"answer", "score"} for r in records)
    assert all(0.5 <= r["codes"]["bias"]["score"] <= 1.0 for r in records)
    right = sum(r["codes"]["bias"]["answer"] == row["label_bias"] for r, row in zip(records, rows, strict=True))
    assert right >= 30  # 10 % label noise, two rows without an answer


def test_clear_errors(tmp_path):
    missing = run("predict-codes", "--model", str(tmp_path / "nope"), "--format", "babe", str(tmp_path / "x.csv"))
    assert missing.returncode == 2 and "not a model directory" in missing.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label_bias\nhello,Biased\n")
    result = run("train-codes", "--format", "babe", str(bad), "--out", str(tmp_path / "m"))
    assert result.returncode == 2 and "not a BABE file" in result.stderr


@pytest.mark.data
@pytest.mark.slow
def test_real_babe_trains_and_predicts(babe_file, tmp_path):
    """On the real BABE sentences: a model from the first 2,000 rows labels the rest better than chance."""
    lines = babe_file.read_text(encoding="utf-8").splitlines(keepends=True)
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    train.write_text("".join(lines[:2001]), encoding="utf-8")
    test.write_text(lines[0] + "".join(lines[2001:]), encoding="utf-8")
    result = run("train-codes", "--format", "babe", str(train), "--out", str(tmp_path / "m"))
    assert result.returncode == 0, result.stderr
    predicted = run("predict-codes", "--model", str(tmp_path / "m"), "--format", "babe", str(test))
    records = [json.loads(line) for line in predicted.stdout.splitlines()]
    truth = [row["label_bias"] for row in csv.DictReader(lines[2001:], fieldnames=COLUMNS, delimiter=";")]
    assert len(records) == len(truth)
    pairs = [(r["codes"]["bias"]["answer"], t) for r, t in zip(records, truth, strict=True) if t != "No agreement"]
    assert sum(p == t for p, t in pairs) / len(pairs) > 0.7
