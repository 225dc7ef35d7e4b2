"""Entry point of the import's parser process (``pipeline._parse_in_child``), run by its path.

Not ``python -m annotator.corpus.importing.pipeline``: that first runs ``annotator/__init__.py``, which loads the
Celery app (celery, kombu, amqp: 0.2-0.3 s of CPU, most of this process's start), and the import waits for this
process's first chunk before it writes anything. The parser needs no Celery, no Django settings and no database, so
the ``annotator`` package is registered as a plain package of its folder, without running its ``__init__``.
"""

import sys
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parents[2]

# Run by path, Python put this file's folder first on sys.path (unless PYTHONSAFEPATH is set), where readers.py or
# errors.py could shadow a module of the same name: the project's root takes its place.
if sys.path and sys.path[0] and Path(sys.path[0]).resolve() == HERE:
    del sys.path[0]
sys.path.insert(0, str(PROJECT_ROOT))
package = types.ModuleType("annotator")
package.__path__ = [str(PROJECT_ROOT / "annotator")]
sys.modules["annotator"] = package

from annotator.corpus.importing.pipeline import _child_main  # noqa: E402 (after the package is registered)

_child_main()
