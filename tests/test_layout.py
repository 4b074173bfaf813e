"""The layout says the flow (docs/architecture.md, "Layout"): sources -> storage -> rules -> events -> delivery.
These tests keep it so: every package is installed, no two modules share a basename, and each layer imports
only the layers below it."""

from __future__ import annotations

import ast
import re
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Bottom first: a module may import from its own layer and the layers before it, never after.
LAYERS = ["events", "monitors", "rules", "state", "notifiers", "watch287g", "flows"]
# The command line is the entry point above everything: `watch287g run` starts the Prefect flow.
ENTRY_POINTS = {"watch287g/cli.py": {"flows"}}


def modules() -> list[Path]:
    return sorted(p for layer in LAYERS for p in (ROOT / layer).rglob("*.py") if p.name != "__init__.py")


def test_every_package_is_installed() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in ROOT.glob("*/**/__init__.py")}
    found = {name for name in found if name.split(".")[0] in LAYERS}
    assert found == listed


def test_no_two_modules_share_a_basename() -> None:
    by_name = defaultdict(list)
    for path in modules():
        by_name[path.name].append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in by_name.items() if len(paths) > 1} == {}


def imported_layers(path: Path) -> set[str]:
    """The top-level packages of this project a module imports (at any depth of the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found |= {name.split(".")[0] for name in names} & set(LAYERS)
    return found


def test_each_layer_imports_only_layers_below_it() -> None:
    upward = {}
    for path in modules():
        layer = path.relative_to(ROOT).parts[0]
        above = {
            imported for imported in imported_layers(path) if LAYERS.index(imported) > LAYERS.index(layer)
        }
        above -= ENTRY_POINTS.get(str(path.relative_to(ROOT)), set())
        if above:
            upward[str(path.relative_to(ROOT))] = sorted(above)
    assert upward == {}


def test_the_architecture_module_map_names_every_module() -> None:
    """docs/architecture.md's module table: every module once, and no module that is gone."""
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = doc[doc.index("## Modules") :].split("\n## ", 1)[0]
    named = set(re.findall(r"^\| `([\w/]+\.py)` \|", table, re.MULTILINE))
    assert named == {str(p.relative_to(ROOT)) for p in modules()}
