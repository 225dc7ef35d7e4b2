"""A web process imports scikit-learn, SciPy and pandas only where a request needs them (docs/benchmarks.md, Lean
processes): loading the URL conf and every view module, as a web worker does before its first request, pulls in none
of them. NumPy is allowed: ~10 MiB, and the scores pages need it anyway."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import annotator.api.views
import annotator.ui

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("sklearn", "scipy", "pandas", "statsmodels", "datasketch")


def _modules(package) -> list[str]:
    return [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]


def test_the_url_conf_and_every_view_module_import_no_heavy_library(tmp_path):
    views = _modules(annotator.api.views) + [m for m in _modules(annotator.ui) if ".management." not in m]
    code = (
        "import os, sys\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'annotator.settings')\n"
        "import django\n"
        "django.setup()\n"
        "from django.urls import get_resolver\n"
        "get_resolver().url_patterns\n"
        + "".join(f"import {m}\n" for m in views)
        + f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "FRAMESCOPE_DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert len(views) > 10 and out.stdout.strip() == "[]", f"imported at start-up: {out.stdout.strip()}"
