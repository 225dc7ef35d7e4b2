"""The skip policy of tests/conftest.py: CI (FRAMESCOPE_STRICT_SKIPS, _REQUIRE_DATA) turns silent skips into failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import pytest

def test_plain_skip():
    pytest.skip("no reason that CI accepts")

@pytest.mark.postgresql
def test_needs_postgresql():
    from django.db import connection
    assert connection.vendor == "postgresql"

@pytest.mark.sqlite
def test_needs_sqlite():
    from django.db import connection
    assert connection.vendor == "sqlite"

def test_reads_babe(babe_dir):
    assert babe_dir.is_dir()
"""


def run_probe(tmp_path: Path, **env: str) -> dict[str, str]:
    """Run PROBE under tests/conftest.py's hooks in a child pytest; the outcome of each test by name."""
    tmp_path.mkdir()
    (tmp_path / "conftest.py").write_text("pytest_plugins = ['tests.conftest']\n")
    (tmp_path / "test_probe.py").write_text(PROBE)
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("FRAMESCOPE_") or k == "FRAMESCOPE_DATA_DIR"}
    child_env.update(env, PYTHONPATH=str(ROOT), DJANGO_SETTINGS_MODULE="annotator.settings")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", "-rN", "--rootdir", str(tmp_path),
         "-c", "/dev/null", str(tmp_path / "test_probe.py")],
        cwd=tmp_path, env=child_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    outcomes = {}
    for line in result.stdout.splitlines():  # "test_probe.py::test_plain_skip SKIPPED (reason) [ 25%]"
        if line.startswith("test_probe.py::"):
            name, outcome = line.split("::", 1)[1].split()[:2]
            outcomes[name] = outcome
    return outcomes | {"_stdout": result.stdout}


@pytest.mark.slow
def test_skips_are_failures_only_where_ci_asks(tmp_path):
    from django.db import connection

    here, other = ("test_needs_postgresql", "test_needs_sqlite")[:: 1 if connection.vendor == "postgresql" else -1]
    relaxed = run_probe(tmp_path / "relaxed", FRAMESCOPE_BABE_DIR=str(tmp_path / "nowhere"))
    assert relaxed[here] == "PASSED", relaxed["_stdout"]
    assert relaxed[other] == relaxed["test_reads_babe"] == relaxed["test_plain_skip"] == "SKIPPED", relaxed["_stdout"]

    strict = run_probe(
        tmp_path / "strict", FRAMESCOPE_BABE_DIR=str(tmp_path / "nowhere"), FRAMESCOPE_STRICT_SKIPS="1",
    )  # fmt: skip
    assert strict["test_plain_skip"] == "FAILED", strict["_stdout"]
    assert strict[other] == strict["test_reads_babe"] == "SKIPPED", strict["_stdout"]  # environment markers

    required = run_probe(
        tmp_path / "required", FRAMESCOPE_BABE_DIR=str(tmp_path / "nowhere"), FRAMESCOPE_REQUIRE_DATA="1"
    )
    assert required["test_reads_babe"] in ("FAILED", "ERROR"), required["_stdout"]  # it skips in its fixture
