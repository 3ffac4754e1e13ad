"""The import graph points down the layers of README's "Data flows one way".

Every import of dataward code counts, including those inside functions (a lazy import is
still an arrow). A new top-level module or package must be given its layer here.
"""
from __future__ import annotations

import ast
from pathlib import Path

import dataward

PACKAGE = Path(dataward.__file__).parent

# Lower layers first; a unit may import only from units of a strictly lower layer.
LAYERS: list[set[str]] = [
    {"errors", "safeyaml", "cells", "job_settings"},   # no dataward imports: text, YAML safety, config sections
    {"settings"},
    {"schema"},
    {"migrations"},
    {"ledger"},
    {"home"},
    {"connectors"},
    {"classifiers"},
    {"pipelines"},
    {"retention", "assets", "backup", "transfer", "accounts", "review"},   # the jobs, side by side
    {"sar", "remediate"},                                      # use the jobs above
    {"trust"},                     # many schools: scans, results and report across jobs
    {"synthetic"},
    {"demo"},
    {"flows"},
    {"cli"},
]
RANK = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}


def _unit(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "dataward" else None


def _imports(path: Path) -> set[str]:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("dataward"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module == "dataward":        # from dataward import x / from . import x
                found.update(f"dataward.{a.name}" for a in node.names)
            elif module.startswith("dataward."):
                found.add(module)
    return found


def _edges() -> list[tuple[str, str, str]]:
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__init__.py" and path.parent == PACKAGE:
            continue
        me = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        for module in _imports(path):
            target = _unit(module)
            if target and target != me and target != "__version__":
                edges.append((me, target, str(path.relative_to(PACKAGE))))
    return edges


def test_every_unit_has_a_layer():
    units = {p.name.removesuffix(".py") for p in PACKAGE.iterdir()
             if (p.suffix == ".py" and p.name != "__init__.py")
             or (p.is_dir() and (p / "__init__.py").exists())}
    assert units - set(RANK) == set(), "give each new module or package its layer above"


def test_imports_point_down_the_layers():
    upward = [f"{where}: {me} -> {target}" for me, target, where in _edges()
              if RANK.get(target, -1) >= RANK.get(me, 99)]
    assert upward == []


def test_the_check_sees_lazy_imports(tmp_path):
    """The checker itself: an import inside a function is an arrow too."""
    mod = tmp_path / "dataward" / "pipelines" / "x.py"
    mod.parent.mkdir(parents=True)
    mod.write_text("def f():\n    from ..cli.common import out\n    import dataward.flows\n")
    rel_package = PACKAGE.parent
    try:
        globals()["PACKAGE"] = tmp_path / "dataward"
        found = _imports(mod)
    finally:
        globals()["PACKAGE"] = rel_package / "dataward"
    assert found == {"dataward.cli.common", "dataward.flows"}
