"""Imports run one way (README, Architecture): the apps of annotator/ form the documented order
corpus → projects → annotations → training → scoring → snapshots → api/ui, and every import of one app by another
points down that order. `common` imports no app, `ml` imports nothing of annotator, domain code never imports `api`,
and `ui` may use the API's own services and selectors (API tokens) but never an API view.

The graph is read from the source with `ast` (every `import`, also inside functions and `if TYPE_CHECKING:`), so a
lazy import is an arrow like any other. Migrations are left out: they name other apps' migrations by design."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The project's wiring modules (settings, urls, wsgi, the Celery app) are not apps: they may be imported by any app
# (annotator.celery, lazily, to inspect the broker) and may import anything.
WIRING = {"settings", "urls", "wsgi", "celery", "__init__"}
LEVELS = {
    "corpus": 1,
    "projects": 2,
    "annotations": 3,
    "training": 4,
    "scoring": 5,
    "snapshots": 6,
    "api": 7,
    "ui": 7,
}
ORDER_LINE = "corpus → projects → annotations → training → scoring → snapshots → api/ui"


def _imported_modules(path: Path, package: str) -> list[tuple[str, int]]:
    """(absolute module name, line) for every import in one file; relative imports resolved against `package`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((module, node.lineno))
            # `from annotator.api import views` names a module too.
            found += [(f"{module}.{alias.name}", node.lineno) for alias in node.names]
    return found


def import_arrows(root: Path) -> dict[tuple[str, str], list[str]]:
    """Arrows between the top-level parts of annotator/ and from ml/: (source, target) -> ["file:line module"]."""
    arrows: dict[tuple[str, str], list[str]] = defaultdict(list)
    for top in ("annotator", "ml"):
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root)
            if "migrations" in rel.parts:
                continue
            source = "ml" if top == "ml" else (rel.parts[1] if len(rel.parts) > 2 else rel.stem)
            package = ".".join(rel.with_suffix("").parts[:-1] if rel.stem != "__init__" else rel.parts[:-1])
            for module, line in _imported_modules(path, package):
                parts = module.split(".")
                if parts[0] != "annotator" or len(parts) < 2:
                    continue
                target = parts[1]
                if target != source:
                    arrows[(source, target)].append(f"{rel}:{line} {module}")
    return arrows


def violations(arrows: dict[tuple[str, str], list[str]]) -> list[str]:
    bad = []
    for (source, target), where in sorted(arrows.items()):
        if source in WIRING or target in WIRING and source != "ml":
            continue
        if source == "ml":
            reason = "ml imports nothing of annotator"
        elif source == "common":
            reason = "common imports no app"
        elif target == "common":
            continue
        elif source not in LEVELS or target not in LEVELS:
            reason = f"{source} or {target} is not in the documented order; add it to LEVELS and the README"
        elif source == "ui" and target == "api":
            views = [w for w in where if re.search(r" annotator\.api\.views(\.|$)", w)]
            if not views:
                continue
            bad.append(f"ui imports an API view: {views}")
            continue
        elif LEVELS[target] < LEVELS[source]:
            continue
        else:
            reason = f"{source} imports {target}, which is not below it"
        bad.append(f"{reason}: {where}")
    return bad


def cycles(arrows: dict[tuple[str, str], list[str]]) -> list[list[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in arrows:
        if source not in WIRING and target not in WIRING:
            graph[source].add(target)
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt) :] + [node, nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, stack + [node])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return found


def test_the_app_graph_has_no_cycle_and_no_upward_arrow():
    arrows = import_arrows(ROOT)
    assert ("ui", "projects") in arrows and ("scoring", "annotations") in arrows  # the parser sees real imports
    assert cycles(arrows) == []
    assert violations(arrows) == []


def test_every_app_is_in_the_documented_order():
    apps = {p.name for p in (ROOT / "annotator").iterdir() if (p / "apps.py").exists()}
    assert apps - {"common"} == set(LEVELS)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ORDER_LINE in readme


def test_the_checker_catches_upward_lateral_and_hidden_imports(tmp_path):
    files = {
        "annotator/corpus/services.py": "def f():\n    from annotator.scoring import selectors\n",
        "annotator/annotations/exchange/formats.py": "from ...api.renderers import x\n",
        "annotator/ui/scoring.py": "from annotator.api import views\n",
        "annotator/ui/tokens.py": "from annotator.api.services import api_token_create\n",
        "annotator/common/tasks.py": "import annotator.scoring.tasks\n",
        "annotator/common/health.py": "from annotator.celery import app\n",
        "annotator/scoring/selectors.py": "from annotator.corpus.models import Article\n",
        "ml/lexicon.py": "from annotator.common import copy\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    arrows = import_arrows(tmp_path)
    found = "\n".join(violations(arrows))
    assert "corpus imports scoring" in found  # upward, even inside a function
    assert "annotations imports api" in found  # a relative import resolved
    assert "ui imports an API view" in found
    assert "ui/tokens.py" not in found  # the API's services are allowed to the UI
    assert "common imports no app" in found and "common/health.py" not in found
    assert "ml imports nothing" in found
    assert len(violations(arrows)) == 5
    assert [set(c) for c in cycles(arrows)] == [{"corpus", "scoring"}]  # corpus → scoring → corpus
