"""The project's layout rules, read from the source: one-way imports between the apps, no loop
inside governance, and benchmark tooling kept out of production."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
# Each app may import the ones before it, never one after it.
APPS = ["communities", "cases", "volunteers", "governance"]
TOOLING = "benchmarks"  # may read every app; no app may import it


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(BASE_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved, imports inside functions included."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.add(prefix)
            found.update(f"{prefix}.{alias.name}" for alias in node.names)  # "from . import x" names modules
    return found


def sources(app: str) -> list[Path]:
    return sorted(path for path in (BASE_DIR / app).rglob("*.py") if ".venv" not in path.parts)


def test_imports_point_one_way_communities_cases_volunteers_governance():
    broken = []
    for rank, app in enumerate(APPS):
        later = set(APPS[rank + 1:]) | {TOOLING}
        for path in sources(app):
            for name in imported_modules(path):
                if name.split(".")[0] in later:
                    broken.append(f"{path.relative_to(BASE_DIR)} imports {name}")
    assert broken == []


def test_the_import_check_sees_a_backward_import(tmp_path):
    # The check above would pass on code it cannot read: make sure it reads what it must refuse.
    path = BASE_DIR / "cases" / "selectors.py"
    assert "communities.selectors" in imported_modules(path)
    assert "cases.models" in imported_modules(path)  # relative "from .models import …"


def _governance_package(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] != "governance" or len(parts) < 2:
        return None
    return parts[1]


def test_governance_areas_import_each_other_without_a_loop():
    """Inside governance, one area (dashboards, projects, coordination …) may use another, but
    never both ways round: a loop means neither can be read, tested or moved alone."""
    edges: set[tuple[str, str]] = set()
    for path in sources("governance"):
        here = _governance_package(_module_name(path))
        if here is None or not (BASE_DIR / "governance" / here).is_dir():
            continue
        for name in imported_modules(path):
            there = _governance_package(name)
            if there and there != here and (BASE_DIR / "governance" / there).is_dir():
                edges.add((here, there))
    assert _cycles(edges) == []


def _cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Each loop of the graph, found by a depth-first walk (one path per loop)."""
    found, done = [], set()

    def walk(node: str, trail: list[str]) -> None:
        for a, b in sorted(edges):
            if a != node:
                continue
            if b in trail:
                found.append(trail[trail.index(b):] + [b])
            elif b not in done:
                walk(b, trail + [b])
        done.add(node)

    for start in sorted({a for a, _b in edges}):
        if start not in done:
            walk(start, [start])
    return found


def test_the_loop_check_finds_a_loop_of_three():
    assert _cycles({("a", "b"), ("b", "c"), ("c", "a")}) == [["a", "b", "c", "a"]]
    assert _cycles({("a", "b"), ("b", "c")}) == []


def test_production_settings_do_not_install_the_benchmark_app():
    """The benchmark commands exist under benchmarks.settings (and the test settings) only."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if k in os.environ}

    def commands(settings_module: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", "help", "--commands"], cwd=BASE_DIR, capture_output=True, text=True,
            env={**env, "DJANGO_SETTINGS_MODULE": settings_module}, timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "seed_benchmark" not in commands("governance.settings")
    assert {"seed_benchmark", "measure_benchmark", "load_benchmark"} <= set(commands("benchmarks.settings").split())


@pytest.mark.parametrize("app", APPS)
def test_no_app_reaches_into_the_benchmark_tooling(app):
    assert not [p for p in sources(app) if any(n.split(".")[0] == TOOLING for n in imported_modules(p))]
