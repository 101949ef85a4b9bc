"""The SHACL gate: a study graph is written only if it conforms to the shapes (decision 0029).

Two engines run the same shapes on the same data (the study graph plus ontology and vocabularies, no
inference): "turbo" (pyshacl-turbo, the default) and "pyshacl" (the reference). They must give the same
results (tests/validate/test_engine_parity.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal as Lit
from typing import cast

import pyshacl
import pyshacl_turbo
from pyoxigraph import RdfFormat, Triple, serialize
from pyshacl_turbo.rdf import Input
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from qualkg.ingest.problems import Problem, Where
from qualkg.ontology import model_graph, shapes_graph, vocabulary_graph

Engine = Lit["turbo", "pyshacl"]
ENGINES: tuple[Engine, ...] = ("turbo", "pyshacl")


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
    """The triples as an rdflib Graph (via N-Triples, which both libraries handle)."""
    g = Graph()
    g.parse(data=serialize(triples, format=RdfFormat.N_TRIPLES), format="nt")
    return g


@cache
def _compiled_shapes() -> pyshacl_turbo.CompiledShapes:
    """The shapes, compiled by the Rust engine once per process (the shapes are package data)."""
    return pyshacl_turbo.compile_shapes(shapes_graph())


@cache
def _model_ntriples() -> str:
    """Ontology + vocabularies as N-Triples, serialised once."""
    return model_graph().serialize(format="nt")


def warm() -> None:
    """Compile the shapes and serialise the model now (a worker process's start, before its first study)."""
    _compiled_shapes()
    _model_ntriples()


def _report_pyshacl(triples: Sequence[Triple]) -> Graph:
    _, report, _ = pyshacl.validate(
        to_rdflib(triples) + vocabulary_graph(),
        shacl_graph=shapes_graph(),
        ont_graph=model_graph(),
        inference="none",
        allow_warnings=True,
    )
    return report


def turbo_input(triples: Sequence[Triple]) -> Input:
    """The model and `triples` as pyshacl-turbo's own input record: N-Triples text its Rust side parses
    (decision 0029)."""
    data = cast(bytes, serialize(triples, format=RdfFormat.N_TRIPLES))  # bytes: no output was given
    return Input(_model_ntriples() + data.decode(), "nt", None, {})


def _report_turbo(triples: Sequence[Triple]) -> Graph:
    _, report, _ = _compiled_shapes().validate(turbo_input(triples), inference="none", allow_warnings=True)
    return report


REPORTERS = {"pyshacl": _report_pyshacl, "turbo": _report_turbo}


def shacl_results(triples: Sequence[Triple], engine: Engine = "turbo") -> list[ShapeResult]:
    """Every top-level validation result (violations and warnings), sorted for stable reports.

    Results nested under sh:detail (why an sh:node or sh:or failed) are left out: the
    top-level result already names the focus node, path and shape a user has to fix.
    """
    report = REPORTERS[engine](triples)
    results = []
    for r in report.objects(None, SH.result):
        def one(p: URIRef, r: Node = r) -> str | None:
            v = report.value(r, p)
            return None if v is None else str(v)

        severity = one(SH.resultSeverity) or str(SH.Violation)
        results.append(ShapeResult(
            focus=one(SH.focusNode) or "",
            path=_path(report, report.value(r, SH.resultPath)),
            value=one(SH.value),
            message=one(SH.resultMessage) or "does not conform",
            severity=severity.rsplit("#", 1)[-1],
            shape=_iri_or_none(report.value(r, SH.sourceShape)),
            component=(one(SH.sourceConstraintComponent) or "").rsplit("#", 1)[-1],
        ))
    return sorted(results, key=result_key)


def result_key(x: ShapeResult) -> tuple[str, ...]:
    """The order of a report's results: the same for a whole study graph and for its transcript chunks."""
    return (x.severity, x.focus, x.path or "", x.component, x.shape or "", x.message, x.value or "")


def gate(triples: Sequence[Triple], *, file: str, locate: Mapping[str, Where] | None = None,
         engine: Engine = "turbo") -> list[Problem]:
    """Validate one study graph; return its problems (errors for violations, warnings otherwise).

    `locate` maps a node IRI to where its record came from (file, element or row), so a
    violation on an excerpt points at the selection or row that produced it.
    """
    return [p for _, p in keyed_gate(triples, file=file, locate=locate, engine=engine)]


def keyed_gate(triples: Sequence[Triple], *, file: str, locate: Mapping[str, Where] | None = None,
               engine: Engine = "turbo") -> list[tuple[tuple[str, ...], Problem]]:
    """`gate`'s problems, each with its result's sort key (`result_key`), so chunks' problems can be merged."""
    problems = []
    for res in shacl_results(triples, engine):
        # Per-transcript checks report the transcript as focus and the excerpt as value: locate either.
        where = (locate or {}).get(res.focus) or (locate or {}).get(res.value or "") or Where(file, element=res.focus)
        where = Where(where.file, where.element or res.focus, where.row, _local(res.path))
        problems.append((result_key(res), Problem(
            where=where,
            rule=f"shacl:{res.component}" + (f" ({_local(res.shape)})" if res.shape else ""),
            message=res.message,
            value=res.value,
            severity="error" if res.severity == "Violation" else "warning",
        )))
    return problems


def _path(report: Graph, path: Node | None) -> str | None:
    """A result path as text: an IRI, or a sequence path's IRIs joined by '/' (blank nodes differ per engine)."""
    if path is None:
        return None
    if isinstance(path, URIRef):
        return str(path)
    if (path, RDF.first, None) in report:
        return "/".join(_path(report, step) or "" for step in report.items(path))
    inverse = report.value(path, SH.inversePath)
    return f"^{inverse}" if inverse is not None else "?"


def _iri_or_none(node: object) -> str | None:
    """Named shapes are reported by IRI; blank-node shapes have no name worth showing."""
    return str(node) if isinstance(node, URIRef) else None


def _local(iri: str | None) -> str | None:
    if iri is None:
        return None
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
