"""Imports go one way only: each folder imports only the layers the README's table lists for it,
and nothing imports the composition root (qualkg/*.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
# The README's "Where each part lives" table: what each folder may import besides itself.
ALLOWED: dict[str, set[str]] = {
    "ontology": set(),
    "store": {"ontology"},
    "ingest": {"ontology", "store"},
    "queries": {"ontology", "store"},
    "synthesis": {"ontology", "store", "queries", "ingest"},
    "projection": {"ontology", "store", "queries"},
    "api": {"ontology", "store", "ingest", "queries", "synthesis", "projection"},
    "explorer": set(),
}


def imported_modules(source: Path, package: list[str]) -> set[str]:
    """Every absolute module name `source` imports (relative imports resolved against `package`)."""
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                names.add(".".join([*base, *([node.module] if node.module else [])]))
            else:
                names.add(node.module or "")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)
              and getattr(node.func, "id", getattr(node.func, "attr", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names.add(node.args[0].value)
    return names


def layer_of(module: str) -> str | None:
    """The folder a qualkg module belongs to: a layer name, "qualkg" for the composition root, or None."""
    parts = module.split(".")
    if parts[0] in ALLOWED:
        return f"unprefixed:{parts[0]}"  # a top-level `api`/`store` import: not installed, always wrong
    if parts[0] != "qualkg":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else "qualkg"


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_folder_imports_only_lower_layers(folder: str) -> None:
    wrong = []
    for source in sorted((ROOT / folder).rglob("*.py")):
        package = ["qualkg", *source.relative_to(ROOT).parent.parts]
        for module in sorted(imported_modules(source, package)):
            layer = layer_of(module)
            if layer is not None and layer != folder and layer not in ALLOWED[folder]:
                wrong.append(f"{source.relative_to(ROOT)} imports {module} ({layer})")
    assert wrong == []


def test_checker_sees_every_kind_of_import(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("import qualkg.api.app\nfrom qualkg.settings import Settings\nfrom ..ingest import records\n"
                      "from . import terms\nimport_module('qualkg.synthesis.feeds')\nimport rdflib\n",
                      encoding="utf-8")
    modules = imported_modules(source, ["qualkg", "store", "sub"])
    assert modules == {"qualkg.api.app", "qualkg.settings", "qualkg.store.ingest", "qualkg.store.sub",
                       "qualkg.synthesis.feeds", "rdflib"}
    assert [layer_of(m) for m in sorted(modules)] == ["api", "qualkg", "store", "store", "synthesis", None]
    assert layer_of("api.answer") == "unprefixed:api"
