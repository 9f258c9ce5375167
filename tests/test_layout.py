"""The package's layers (README, Layout): each imports only the layers before it, and the model never the app."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# In the README's order: a module may import from its own layer and the layers before it.
LAYERS = ("network", "cases", "inference", "care", "diagnosis", "scoring", "inspect", "cli")


def layer_of(path: Path) -> str | None:
    parts = path.relative_to(ROOT / "model").parts
    name = parts[0] if len(parts) > 1 else path.stem
    return name if name in LAYERS else None


def imported(path: Path) -> set[str]:
    """The top-level modules or packages of `model` and the `app` package that a file imports, wherever in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "app":
                found.add("app")
            elif parts[0] == "model" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_every_layer_imports_only_the_layers_before_it() -> None:
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    checked = 0
    for path in sorted((ROOT / "model").rglob("*.py")):
        layer = layer_of(path)
        if layer is None:
            continue
        later = {name for name in imported(path) if name in rank and rank[name] > rank[layer]}
        assert not later, f"{path.relative_to(ROOT)} ({layer}) imports the later layer(s) {sorted(later)}"
        checked += 1
    assert checked >= 30, "the layers hold the package's modules"


# The compiled engine's modules (model/inference/engine.py's docstring), each one idea: a module may import only
# the ones before it, so that evidence codes, tables, plans and paths know nothing of how plans are chosen or run.
ENGINE = ("codes", "paths", "tables", "plans", "keys", "execute", "engine")


def test_the_engines_modules_import_only_the_ones_before_them() -> None:
    for i, name in enumerate(ENGINE):
        path = ROOT / "model" / "inference" / f"{name}.py"
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("model.inference."):
                found.add(node.module.split(".")[2])
        later = found & set(ENGINE[i:])
        assert not later, f"model/inference/{name}.py imports {sorted(later)}, which come after it"


def test_the_model_never_imports_the_app() -> None:
    for path in sorted((ROOT / "model").rglob("*.py")):
        assert "app" not in imported(path), path.relative_to(ROOT)


def test_the_apps_entry_point_is_short() -> None:
    assert len((ROOT / "app.py").read_text(encoding="utf-8").splitlines()) < 100
