"""The controlled vocabularies a question parameter may name (role, feature, mode), so that a client
can offer a dropdown instead of free text. The concepts come from the model shipped in this version,
the same list `queries.catalog` checks parameter values against. They hold no study data, so no scope
is needed to read them."""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel
from rdflib import Literal, URIRef
from rdflib.namespace import OWL, RDF, SKOS

from qualkg.ontology import vocabulary_graph
from qualkg.queries.catalog import VOCABULARIES

router = APIRouter(prefix="/vocab", tags=["vocabularies"])


class Concept(BaseModel):
    id: str  # the value a question parameter accepts, e.g. peer-practitioner
    iri: str
    label: str
    broader: str | None  # the id of the broader concept, if any
    definition: str | None


@cache
def concepts(name: str) -> tuple[Concept, ...]:
    """The current concepts of one vocabulary (deprecated ones left out), sorted by label. Cached: the model
    does not change at run time."""
    ns = VOCABULARIES[name]
    g = vocabulary_graph()
    iris = {s for s in set(g.subjects(SKOS.inScheme, None)) | set(g.subjects(RDF.type, SKOS.Concept))
            if isinstance(s, URIRef) and str(s).startswith(ns) and (s, OWL.deprecated, Literal(True)) not in g}

    def english(subject: URIRef, prop: URIRef) -> str | None:
        values = list(g.objects(subject, prop))
        preferred = [v for v in values if getattr(v, "language", None) in ("en", None)]
        return str((preferred or values)[0]) if values else None

    out = []
    for iri in iris:
        up = next((b for b in g.objects(iri, SKOS.broader) if str(b).startswith(ns)), None)
        local = str(iri)[len(ns):]
        out.append(Concept(id=local, iri=str(iri), label=english(iri, SKOS.prefLabel) or local,
                           broader=str(up)[len(ns):] if up is not None else None,
                           definition=english(iri, SKOS.definition)))
    return tuple(sorted(out, key=lambda c: c.label.lower()))


@router.get("", summary="The vocabularies question parameters may name")
def list_vocabularies() -> list[str]:
    return sorted(VOCABULARIES)


@router.get("/{name}", response_model=list[Concept], summary="The concepts of one vocabulary (role, feature or mode)")
def vocabulary(name: str) -> tuple[Concept, ...]:
    if name not in VOCABULARIES:
        raise HTTPException(404, f"no vocabulary '{name}'; known: {', '.join(sorted(VOCABULARIES))}")
    return concepts(name)
