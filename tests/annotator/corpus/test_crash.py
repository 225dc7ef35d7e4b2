"""An import killed with SIGKILL midway, then rerun, ends with exactly the rows of one full run."""

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from annotator.corpus.models import Article
from tests.annotator.corpus.helpers import wait_for_story_clustering
from tests.conftest import ROOT, wait_for

pytestmark = pytest.mark.slow

# Large enough that the import is still running when the test sees its first committed chunks, even on a busy machine.
N_ROWS = 20000


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


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in {"Z", "X"}


@pytest.mark.parametrize("parse_in_child", [False, True], ids=["in-process", "parser-subprocess"])
def test_sigkill_midway_then_rerun_gives_exactly_one_copy(tmp_path, celery_worker, worker_env, parse_in_child):
    path = tmp_path / "corpus.jsonl"
    write_corpus(path)
    env = {**worker_env, "IMPORT_PARALLEL_MIN_BYTES": "0" if parse_in_child else str(10**12)}
    proc = subprocess.Popen(import_cmd(path), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while Article.objects.count() < 200 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    parsers = children_of(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    partial = Article.objects.count()
    assert 0 < partial < N_ROWS - 20
    assert len(parsers) == int(parse_in_child)
    wait_for(lambda: all(gone(pid) for pid in parsers), timeout=30, what="the orphaned parser process to exit")

    rerun = subprocess.run(import_cmd(path), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr

    expected_ids = {f"e{i}" for i in range(N_ROWS) if i % 4 and i % 500 != 7} | {"e1"}
    expected_hash_rows = sum(1 for i in range(N_ROWS) if not i % 4 and i % 500 != 7)
    ids = Counter(Article.objects.exclude(external_id="").values_list("outlet__slug", "external_id"))
    assert all(count == 1 for count in ids.values())
    assert {external_id for _, external_id in ids} == expected_ids
    assert Article.objects.filter(external_id="").count() == expected_hash_rows
    assert Article.objects.count() == len(expected_ids) + expected_hash_rows
    assert f"{N_ROWS} rows read, {len(expected_ids) + expected_hash_rows - partial} created" in rerun.stdout

    wait_for_story_clustering()  # the rerun queued it on the worker
