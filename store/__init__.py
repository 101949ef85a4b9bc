"""Graph store backends, chosen by name.

The registry maps a backend name to *where* its class lives ("module:Class") and imports it
only when that backend is opened, so an optional driver costs nothing until it is chosen
(the rdflib plugin pattern).
"""

from __future__ import annotations

from importlib import import_module
from types import MappingProxyType
from typing import Any

from qualkg.store.base import GraphStore

BACKENDS: MappingProxyType[str, str] = MappingProxyType(
    {
        "oxigraph": "qualkg.store.oxigraph:OxigraphStore",
        "sparql": "qualkg.store.sparql:ProtocolStore",
    }
)


def open_store(name: str, **options: Any) -> GraphStore:
    """Open the backend registered as `name` (case-insensitive), passing `options` to its constructor.

    >>> open_store("Oxigraph", path=None).graphs()
    []
    """
    target = BACKENDS.get(name.lower())
    if target is None:
        raise ValueError(f"unknown store backend {name!r}; valid names: {', '.join(sorted(BACKENDS))}")
    module_name, _, class_name = target.partition(":")
    backend: type[GraphStore] = getattr(import_module(module_name), class_name)
    return backend(**options)
