"""The SHACL gate: a study graph is written only if it conforms to the shapes.

pySHACL is the reference validator (ontology + vocabularies passed as ont_graph, no inference).
The vocabularies are also added to the data graph, because pySHACL's ont_graph mixing copies
class axioms but not the concepts' skos:inScheme triples that the vocabulary shapes check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyshacl
from pyoxigraph import RdfFormat, Triple, serialize
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from ingest.records import Problem, Where
from ontology import model_graph, shapes_graph, vocabulary_graph


@dataclass(frozen=True, slots=True)
class ShapeResult:
    focus: str
    path: str | None
    value: str | None
    message: str
    severity: str  # Violation | Warning | Info
    shape: str | None
    component: str


def to_rdflib(triples: Sequence[Triple]) -> Graph:
    """The triples as an rdflib Graph (via N-Triples, which both libraries handle fast)."""
    g = Graph()
    g.parse(data=serialize(triples, format=RdfFormat.N_TRIPLES), format="nt")
    return g


def shacl_results(data: Graph) -> list[ShapeResult]:
    """Every validation result (violations and warnings) of the data graph, sorted for stable reports."""
    _, report, _ = pyshacl.validate(
        data + vocabulary_graph(),
        shacl_graph=shapes_graph(),
        ont_graph=model_graph(),
        inference="none",
        allow_warnings=True,
    )
    results = []
    for r in report.subjects(RDF.type, SH.ValidationResult):
        def one(p: URIRef) -> str | None:
            v = report.value(r, p)
            return None if v is None else str(v)

        severity = one(SH.resultSeverity) or str(SH.Violation)
        results.append(ShapeResult(
            focus=one(SH.focusNode) or "",
            path=one(SH.resultPath),
            value=one(SH.value),
            message=one(SH.resultMessage) or "does not conform",
            severity=severity.rsplit("#", 1)[-1],
            shape=_iri_or_none(report.value(r, SH.sourceShape)),
            component=(one(SH.sourceConstraintComponent) or "").rsplit("#", 1)[-1],
        ))
    return sorted(results, key=lambda x: (x.severity, x.focus, x.path or "", x.message))


def gate(triples: Sequence[Triple], *, file: str, locate: Mapping[str, Where] | None = None) -> list[Problem]:
    """Validate one study graph; return its problems (errors for violations, warnings otherwise).

    `locate` maps a node IRI to where its record came from (file, element or row), so a
    violation on an excerpt points at the selection or row that produced it.
    """
    problems = []
    for res in shacl_results(to_rdflib(triples)):
        # Per-transcript checks report the transcript as focus and the excerpt as value: locate either.
        where = (locate or {}).get(res.focus) or (locate or {}).get(res.value or "") or Where(file, element=res.focus)
        where = Where(where.file, where.element or res.focus, where.row, _local(res.path))
        problems.append(Problem(
            where=where,
            rule=f"shacl:{res.component}" + (f" ({_local(res.shape)})" if res.shape else ""),
            message=res.message,
            value=res.value,
            severity="error" if res.severity == "Violation" else "warning",
        ))
    return problems


def _iri_or_none(node: object) -> str | None:
    """Named shapes are reported by IRI; blank-node shapes have no name worth showing."""
    return str(node) if isinstance(node, URIRef) else None


def _local(iri: str | None) -> str | None:
    if iri is None:
        return None
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
