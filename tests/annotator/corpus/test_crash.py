"""An import killed with SIGKILL midway, then rerun, ends with exactly the rows of one full run."""

import json
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from annotator.corpus.models import Article
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

N_ROWS = 6000


def write_corpus(path):
    with path.open("w", encoding="utf-8") as fh:
        for i in range(N_ROWS):
            row = {"outlet": f"Outlet {i % 3}", "title": f"T{i}", "text": f"Story {i} it’s “here” 😀\r\n"}
            if i % 4:
                row["external_id"] = f"e{i}"
            if i % 500 == 7:  # an in-file duplicate of an earlier row
                row = {**row, "external_id": "e1", "outlet": "Outlet 1"}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def import_cmd(path):
    return [sys.executable, "manage.py", "import_corpus", str(path), "--batch-size", "20"]


def test_sigkill_midway_then_rerun_gives_exactly_one_copy(tmp_path, transactional_db, worker_env):
    path = tmp_path / "corpus.jsonl"
    write_corpus(path)
    proc = subprocess.Popen(import_cmd(path), cwd=ROOT, env=worker_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 60
    while Article.objects.count() < 200 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    partial = Article.objects.count()
    assert 0 < partial < N_ROWS - 20

    rerun = subprocess.run(import_cmd(path), cwd=ROOT, env=worker_env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr

    expected_ids = {f"e{i}" for i in range(N_ROWS) if i % 4 and i % 500 != 7} | {"e1"}
    expected_hash_rows = sum(1 for i in range(N_ROWS) if not i % 4 and i % 500 != 7)
    ids = Counter(Article.objects.exclude(external_id="").values_list("outlet__slug", "external_id"))
    assert all(count == 1 for count in ids.values())
    assert {external_id for _, external_id in ids} == expected_ids
    assert Article.objects.filter(external_id="").count() == expected_hash_rows
    assert Article.objects.count() == len(expected_ids) + expected_hash_rows
    assert f"{N_ROWS} rows read, {len(expected_ids) + expected_hash_rows - partial} created" in rerun.stdout
