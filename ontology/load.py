"""Load the model files shipped in this package (found through importlib.resources)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from rdflib import Graph

from qualkg.ontology.namespaces import PREFIXES

_ROOT = files("qualkg.ontology")


def _ttl_files(folder: Traversable) -> list[Traversable]:
    return sorted((f for f in folder.iterdir() if f.name.endswith(".ttl")), key=lambda f: f.name)


def _parse(paths: list[Traversable]) -> Graph:
    g = Graph()
    for prefix, iri in PREFIXES.items():
        g.bind(prefix, iri)
    for path in paths:
        g.parse(data=path.read_text(encoding="utf-8"), format="turtle", publicID=f"file:///{path.name}")
    return g


@cache
def ontology_graph() -> Graph:
    """The OWL ontology (ontology/qualkg.ttl). Cached: treat as read-only."""
    return _parse([_ROOT / "qualkg.ttl"])


@cache
def vocabulary_graph() -> Graph:
    """All SKOS concept schemes in ontology/vocab/. Cached: treat as read-only."""
    return _parse(_ttl_files(_ROOT / "vocab"))


@cache
def shapes_graph() -> Graph:
    """All SHACL shapes in ontology/shapes/, one file per concern. Cached: treat as read-only."""
    return _parse(_ttl_files(_ROOT / "shapes"))


@cache
def model_graph() -> Graph:
    """Ontology plus vocabularies: what pySHACL receives as ont_graph and what the model graph stores."""
    return ontology_graph() + vocabulary_graph()


def shape_files() -> list[str]:
    """Names of the shape files, one per concern."""
    return [f.name for f in _ttl_files(_ROOT / "shapes")]
