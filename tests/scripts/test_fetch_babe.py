"""`make data` (scripts/fetch_babe.py) against a local HTTP server: the files arrive whole, or nothing changes."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from scripts.fetch_babe import FILES
from tests.babe_sample import write_babe_sample

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(tmp_path):
    """A folder laid out like BABE's repository at its commit, served on a free loopback port."""
    site = tmp_path / "site"
    write_babe_sample(site / FILES["final_labels_SG2.csv"], bom=True)
    (site / "LICENSE").write_text("GNU AFFERO GENERAL PUBLIC LICENSE\n")
    (site / "README.md").write_text("# BABE\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield site, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def fetch(target: Path, base_url: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "scripts/fetch_babe.py", "--into", str(target), "--base-url", base_url]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_fetch_writes_the_files_and_prints_the_licence(served, tmp_path):
    site, url = served
    target = tmp_path / "data" / "babe"
    result = fetch(target, url)
    assert result.returncode == 0, result.stderr
    assert "7 sentences" in result.stdout and "AGPL-3.0" in result.stdout
    assert sorted(p.name for p in target.iterdir()) == ["LICENSE", "README.md", "SOURCE.txt", "final_labels_SG2.csv"]
    assert (target / "final_labels_SG2.csv").read_bytes() == (site / "data" / "final_labels_SG2.csv").read_bytes()
    assert [p.name for p in target.parent.iterdir()] == ["babe"]  # no staging folder left behind


def test_without_network_nothing_is_half_written(served, tmp_path):
    site, url = served
    target = tmp_path / "babe"
    assert fetch(target, url).returncode == 0
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    unreachable = fetch(target, "http://127.0.0.1:9")  # the discard port: connection refused
    assert unreachable.returncode == 2 and "Traceback" not in unreachable.stderr
    assert "could not download" in unreachable.stderr and "needs internet access" in unreachable.stderr

    (site / "LICENSE").unlink()  # the second file of three fails: the first must not land either
    partial = fetch(target, url)
    assert partial.returncode == 2 and "404" in partial.stderr

    (site / "LICENSE").write_text("licence")
    (site / "data" / "final_labels_SG2.csv").write_text("<html>rate limited</html>")
    wrong = fetch(target, url)
    assert wrong.returncode == 2 and "not BABE's final_labels_SG2.csv" in wrong.stderr

    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
