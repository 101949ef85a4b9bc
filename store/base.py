"""The one interface every RDF backend of qualkg implements (decision 0017).

Terms crossing it are pyoxigraph terms; a query's parameters travel as terms in `bindings`, which the
backend binds (store.binding), never as text pasted into the SPARQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

if TYPE_CHECKING:  # pandas costs seconds to import; `qualkg --help` imports this module
    import pandas as pd

Term = NamedNode | BlankNode | Literal | Triple
Row = dict[str, Term | None]
Bindings = Mapping[str, Term]


class ExportFormat(StrEnum):
    """RDF serialisations a graph can be exported as, by short name; media types in MEDIA_TYPES."""

    turtle = "ttl"
    nquads = "nq"
    ntriples = "nt"
    jsonld = "jsonld"
    trig = "trig"


MEDIA_TYPES: dict[ExportFormat, str] = {
    ExportFormat.turtle: "text/turtle",
    ExportFormat.nquads: "application/n-quads",
    ExportFormat.ntriples: "application/n-triples",
    ExportFormat.jsonld: "application/ld+json",
    ExportFormat.trig: "application/trig",
}


class StoreError(Exception):
    """A backend could not do what was asked; the message says which graph or query and why."""


class QueryError(StoreError):
    """The query itself is wrong (syntax, unsupported form) — the caller's fault, not the store's."""


class QueryTimeout(StoreError):
    """The query ran longer than the configured limit and was stopped."""


@runtime_checkable
class GraphStore(Protocol):
    """A quad store holding one named graph per study (and its log) plus the model graph."""

    def replace_graph(self, graph: str, triples: Iterable[Triple]) -> int:
        """Atomically replace the named graph's content; return the number of triples written.

        Readers see the old graph or the new one, never a mix; a failure leaves the old graph.
        """
        ...

    def replace_graphs(self, graphs: Mapping[str, Iterable[Triple]]) -> dict[str, int]:
        """Replace several named graphs in one atomic step (a batch is all or nothing)."""
        ...

    def drop_graph(self, graph: str) -> bool:
        """Remove a named graph; return whether it existed."""
        ...

    def graphs(self) -> list[str]:
        """IRIs of the named graphs that hold at least one triple, sorted."""
        ...

    def triple_count(self, graph: str) -> int:
        """Number of triples in a named graph (0 when it does not exist)."""
        ...

    def select(self, query: str, bindings: Bindings | None = None) -> list[Row]:
        """Run a SELECT with parameters bound as terms; one dict per solution, unbound = None."""
        ...

    def select_df(self, query: str, bindings: Bindings | None = None) -> pd.DataFrame:
        """Run a SELECT and return a DataFrame of plain Python values (IRIs as str, numbers as numbers)."""
        ...

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        """Run an ASK with parameters bound as terms."""
        ...

    def construct(self, query: str, bindings: Bindings | None = None) -> list[Triple]:
        """Run a CONSTRUCT or DESCRIBE with parameters bound as terms."""
        ...

    def query_raw(self, query: str, media_type: str, timeout_s: float | None = None) -> bytes:
        """Run a caller's read-only query and serialise its result in `media_type` (SPARQL results
        JSON/XML/CSV/TSV, or an RDF syntax for CONSTRUCT/DESCRIBE). Raises QueryTimeout past `timeout_s`."""
        ...

    def export(self, graph: str | None, fmt: ExportFormat) -> bytes:
        """Serialise one named graph (or, with None, every named graph as a dataset) in `fmt`."""
        ...

    def close(self) -> None:
        """Release files and connections; the store must not be used afterwards."""
        ...
