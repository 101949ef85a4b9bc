"""A study's graphs in the store as one unit: find them, read one, delete them together (decision 0117).

A study is its named graph and its log graph (ontology.iris). Deleting replaces both with nothing in one
`replace_graphs` call, so the delete is all or nothing and any store wrapper (the columnar projection)
sees it as the write it is.
"""

from __future__ import annotations

from pyoxigraph import RdfFormat, Triple, parse

from qualkg.ontology.iris import IriScheme
from qualkg.store.base import ExportFormat, GraphStore


class UnknownStudy(LookupError):
    """No study by that id in the store (or the id names a graph qualkg writes itself)."""

    def __init__(self, study: str) -> None:
        super().__init__(f"no study '{study}' in the store")
        self.study = study


def study_graphs(store: GraphStore, iris: IriScheme, study: str) -> list[str]:
    """The study's graph and, when it has one, its log graph; UnknownStudy for a reserved or absent id."""
    held = set(store.graphs())
    if iris.reserved_study(study) is not None or iris.graph(study) not in held:
        raise UnknownStudy(study)
    return [g for g in (iris.graph(study), iris.log_graph(study)) if g in held]


def study_triples(store: GraphStore, iris: IriScheme, study: str) -> list[Triple]:
    """The triples of the study's own graph (UnknownStudy when there is none)."""
    study_graphs(store, iris, study)
    data = store.export(iris.graph(study), ExportFormat.ntriples)
    return [q.triple for q in parse(data, format=RdfFormat.N_TRIPLES)]


def delete_study(store: GraphStore, iris: IriScheme, study: str) -> list[str]:
    """Remove the study's graphs in one atomic write; return the graphs removed."""
    graphs = study_graphs(store, iris, study)
    store.replace_graphs({g: () for g in graphs})
    return graphs
