"""`python -m ml` end to end on a generated file in BABE's format: train, predict, evaluate; clear errors for bad
files; and one run on a slice of the real BABE data (a data test)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ml.babe import read_babe
from tests.babe_sample import babe_sample_rows, write_babe_sample

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ml", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def babe_slices(tmp_path_factory):
    folder = tmp_path_factory.mktemp("babe")
    rows = babe_sample_rows(400, seed=1)
    train = write_babe_sample(folder / "train.csv", rows[:600])
    test = write_babe_sample(folder / "test.csv", babe_sample_rows(60, seed=2)[:100])
    return train, test


@pytest.fixture(scope="module")
def model_dir(babe_slices, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "m"
    result = run("train", "--format", "babe", str(babe_slices[0]), "--out", str(out), "--pin", "draconian")
    assert result.returncode == 0, result.stderr
    assert f"trained on {len(read_babe(babe_slices[0]).rows)} texts" in result.stdout
    return out


def test_train_writes_a_model_and_manifest(model_dir):
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert manifest["labels"] == ["loaded"] and manifest["params"]["pinned"] == ["draconian"]
    assert manifest["n_terms"] >= 8  # the sample's loaded words, at least


def test_predict_writes_one_json_line_per_row_in_order(model_dir, babe_slices):
    result = run("predict", "--model", str(model_dir), "--format", "babe", str(babe_slices[1]))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    rows = read_babe(babe_slices[1]).rows
    assert [r["text"] for r in records] == [row.text for row in rows]
    spans = [s for r in records for s in r["spans"]]
    assert spans and all(set(s) == {"start", "end", "label", "score"} for s in spans)
    assert all(r["text"][s["start"] : s["end"]].strip() for r in records for s in r["spans"])


def test_evaluate_prints_a_table_and_json(model_dir, babe_slices):
    table = run("evaluate", "--model", str(model_dir), "--format", "babe", str(babe_slices[1]))
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split()[:5] == ["measure", "label", "P", "R", "F1"]
    as_json = run("evaluate", "--model", str(model_dir), "--format", "babe", str(babe_slices[1]), "--json")
    metrics = json.loads(as_json.stdout)
    word = metrics["word"]["micro"]
    assert metrics["n_texts"] == len(read_babe(babe_slices[1]).rows) and word["n_gold"] > 0 and 0.0 < word["f1"] <= 1.0
    assert set(metrics) == {"n_texts", "exact", "partial", "word"}
    assert metrics["partial"]["micro"]["f1"] >= metrics["exact"]["micro"]["f1"]


def test_jsonl_format_round_trips(tmp_path, model_dir):
    src = tmp_path / "in.jsonl"
    text = "Critics slammed the draconian and bizarre plan."
    src.write_text(json.dumps({"text": text, "spans": [{"start": 20, "end": 29, "label": "loaded"}]}) + "\n")
    result = run("predict", "--model", str(model_dir), "--format", "jsonl", str(src))
    record = json.loads(result.stdout)
    assert {"start": 20, "end": 29, "label": "loaded", "score": 1.0} in record["spans"]  # pinned
    evaluated = json.loads(run("evaluate", "--model", str(model_dir), "--format", "jsonl", str(src), "--json").stdout)
    assert evaluated["exact"]["micro"]["recall"] == 1.0


def test_bad_files_give_clear_errors(tmp_path, model_dir):
    missing = run("predict", "--model", str(model_dir), "--format", "babe", str(tmp_path / "none.csv"))
    assert missing.returncode == 2 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{oops\n')
    result = run("predict", "--model", str(model_dir), "--format", "jsonl", str(bad))
    assert result.returncode == 2 and "bad.jsonl:2: not JSON" in result.stderr
    no_model = run("evaluate", "--model", str(tmp_path), "--format", "jsonl", str(bad))
    assert no_model.returncode == 2 and "not a model directory" in no_model.stderr


def test_train_and_evaluate_on_a_slice_of_the_real_babe_file(babe_file, tmp_path):
    lines = babe_file.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    train.write_text(lines[0] + "".join(lines[1:601]), encoding="utf-8")
    test.write_text(lines[0] + "".join(lines[601:701]), encoding="utf-8")
    out = tmp_path / "model"
    trained = run("train", "--format", "babe", str(train), "--out", str(out))
    assert trained.returncode == 0, trained.stderr
    assert "trained on 600 texts" in trained.stdout
    assert json.loads((out / "manifest.json").read_text())["n_terms"] > 100
    metrics = json.loads(run("evaluate", "--model", str(out), "--format", "babe", str(test), "--json").stdout)
    assert metrics["n_texts"] == 100 and 0.0 < metrics["word"]["micro"]["f1"] <= 1.0
