"""The backend registry: names are case-insensitive, unknown names list the valid ones."""

from __future__ import annotations

import pytest

from qualkg.store import BACKENDS, open_store
from qualkg.store.base import GraphStore
from qualkg.store.oxigraph import OxigraphStore


@pytest.mark.parametrize("name", ["oxigraph", "Oxigraph", "OXIGRAPH"])
def test_open_by_name_any_case(name: str) -> None:
    store = open_store(name, path=None)
    try:
        assert isinstance(store, OxigraphStore)
        assert isinstance(store, GraphStore)
    finally:
        store.close()


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="unknown store backend 'neo4j'; valid names: oxigraph, sparql"):
        open_store("neo4j")


def test_registry_names_lower_case_and_point_at_module_class() -> None:
    assert sorted(BACKENDS) == ["oxigraph", "sparql"]
    assert all(name == name.lower() and ":" in target for name, target in BACKENDS.items())
