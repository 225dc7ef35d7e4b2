"""ml/ is pure Python: importing every module of it must not pull in Django."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import ml

ROOT = Path(__file__).resolve().parents[2]


def test_importing_all_of_ml_does_not_import_django():
    modules = [m.name for m in pkgutil.walk_packages(ml.__path__, "ml.") if not m.name.endswith("__main__")]
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", f"a module of ml imports Django: {modules}"
