"""Shared IRIs and the three-triple fixture of the store tests (counted by hand in docstrings)."""

from __future__ import annotations

from collections.abc import Callable

from pyoxigraph import Literal, NamedNode, Triple

from qualkg.store.base import GraphStore

EX = "http://example.org/"
G1 = EX + "graph/one"
G2 = EX + "graph/two"
LABEL = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
AGE = NamedNode(EX + "age")

Opener = Callable[[], GraphStore]  # opens a backend on the same storage on every call


def ex(local: str) -> NamedNode:
    return NamedNode(EX + local)


def people() -> list[Triple]:
    """Three triples: alice and bob have labels, alice has an age (xsd:integer 42)."""
    return [
        Triple(ex("alice"), LABEL, Literal("Alice")),
        Triple(ex("alice"), AGE, Literal(42)),
        Triple(ex("bob"), LABEL, Literal("Bob")),
    ]
