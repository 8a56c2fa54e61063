"""The engine must stay importable and usable without Django, DRF, Celery or the studio's own packages."""

import ast
import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"
FORBIDDEN = ("django", "rest_framework", "celery", "kombu", "apps", "studio", "workers", "drf_spectacular")


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_engine_module_imports_django_celery_or_the_studio():
    offenders = {
        str(path.relative_to(ENGINE)): sorted(_imported_roots(path) & set(FORBIDDEN))
        for path in ENGINE.rglob("*.py")
        if _imported_roots(path) & set(FORBIDDEN)
    }
    assert offenders == {}


def test_importing_the_whole_engine_loads_no_django():
    modules = [
        ".".join(path.relative_to(ENGINE.parent).with_suffix("").parts).removesuffix(".__init__")
        for path in ENGINE.rglob("*.py")
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ENGINE.parent, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
