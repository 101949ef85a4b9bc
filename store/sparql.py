"""A GraphStore on any SPARQL 1.1 server (Fuseki, GraphDB, Virtuoso, Neptune …), over the SPARQL 1.1
Protocol and the Graph Store Protocol (decision 0009).

A batch of graphs is replaced by ONE SPARQL Update request. Read queries take the server's default
graph as the union of the named graphs, or send `union_graph` as `default-graph-uri` when one is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import httpx
import pandas as pd
from pyoxigraph import (
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Triple,
    parse,
    parse_query_results,
    serialize,
)

from qualkg.ontology.namespaces import PREFIXES
from qualkg.store.base import Bindings, ExportFormat, QueryError, QueryTimeout, Row, StoreError
from qualkg.store.binding import bind_values
from qualkg.store.terms import solutions_table, table_frame, to_python
from qualkg.store.updates import RDF_FORMATS, graph_names, graph_node, replace_update

JSON_RESULTS = "application/sparql-results+json"
NTRIPLES = "application/n-triples"
NQUADS = "application/n-quads"


class ProtocolStore:
    """A remote SPARQL 1.1 server, configured by its endpoint URLs and optional basic-auth credentials."""

    def __init__(self, query_url: str, update_url: str, gsp_url: str, *, user: str | None = None,
                 password: str | None = None, union_graph: str | None = None,
                 timeout_s: float = 60.0) -> None:
        if not (query_url and update_url and gsp_url):
            raise StoreError("the sparql store needs query, update and graph-store URLs")
        self.query_url, self.update_url, self.gsp_url = query_url, update_url, gsp_url
        self.union_graph = union_graph
        auth = httpx.BasicAuth(user, password or "") if user else None
        self._http = httpx.Client(auth=auth, timeout=timeout_s)

    # --- writes ------------------------------------------------------------------------
    def replace_graph(self, graph: str, triples: Iterable[Triple]) -> int:
        return self.replace_graphs({graph: triples})[graph]

    def replace_graphs(self, graphs: Mapping[str, Iterable[Triple]]) -> dict[str, int]:
        if not graphs:
            return {}
        self._update(replace_update(graphs), f"replace {graph_names(graphs)}")
        return {g: self.triple_count(g) for g in graphs}

    def drop_graph(self, graph: str) -> bool:
        existed = self.triple_count(graph) > 0
        self._update(f"DROP SILENT GRAPH <{graph_node(graph).value}>", f"drop <{graph}>")
        return existed

    # --- reads -------------------------------------------------------------------------
    def graphs(self) -> list[str]:
        rows = self._select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g", None, union=False)
        return [str(to_python(r["g"])) for r in rows]

    def triple_count(self, graph: str) -> int:
        rows = self._select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph_node(graph).value}> {{ ?s ?p ?o }} }}",
                            None, union=False)
        return int(to_python(rows[0]["n"]) or 0)

    def select(self, query: str, bindings: Bindings | None = None) -> list[Row]:
        return self._select(query, bindings, union=True)

    def select_df(self, query: str, bindings: Bindings | None = None) -> pd.DataFrame:
        result = self._results(bind_values(query, bindings), union=True)
        if not isinstance(result, QuerySolutions):
            raise QueryError("expected a SELECT query")
        return table_frame(*solutions_table(result))

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        result = self._results(bind_values(query, bindings), union=True)
        if not isinstance(result, QueryBoolean):
            raise QueryError("expected an ASK query")
        return bool(result)

    def construct(self, query: str, bindings: Bindings | None = None) -> list[Triple]:
        body = self._post_query(bind_values(query, bindings), NTRIPLES, union=True)
        return [q.triple for q in parse(body, format=RdfFormat.N_TRIPLES)]

    def query_raw(self, query: str, media_type: str, timeout_s: float | None = None) -> bytes:
        response = self._query_response(query, media_type, union=True, timeout_s=timeout_s)
        served = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if served != media_type.lower():  # servers fall back to another format rather than refuse
            raise QueryError(f"these results cannot be served as {media_type!r} (the server offered {served!r})")
        return response.content

    def export(self, graph: str | None, fmt: ExportFormat) -> bytes:
        rdf_format = RDF_FORMATS[fmt]
        if graph is None and not rdf_format.supports_datasets:
            raise StoreError(f"{fmt.name} holds one graph: name a graph, or export all as nquads, trig or jsonld")
        params = {"graph": graph_node(graph).value} if graph else {}
        accept = NTRIPLES if graph else NQUADS
        response = self._send("GET", self.gsp_url, f"export <{graph}>", params=params, headers={"Accept": accept})
        quads = parse(response.content, format=RdfFormat.N_TRIPLES if graph else RdfFormat.N_QUADS)
        items = [q.triple for q in quads] if graph else list(quads)
        return serialize(items, format=rdf_format, prefixes=PREFIXES) or b""

    def close(self) -> None:
        self._http.close()

    # --- helpers -----------------------------------------------------------------------
    def _send(self, method: str, url: str, what: str, timeout_s: float | None = None, *,
              content: bytes | None = None, params: dict[str, str] | None = None,
              headers: dict[str, str] | None = None) -> httpx.Response:
        try:
            response = self._http.request(method, url, timeout=timeout_s or self._http.timeout, content=content,
                                          params=params, headers=headers)
        except httpx.TimeoutException as e:
            limit = timeout_s or self._http.timeout.read
            raise QueryTimeout(f"{what}: the SPARQL server did not answer within {limit} s") from e
        except httpx.HTTPError as e:
            raise StoreError(f"{what}: the SPARQL server at {url} is unreachable ({e})") from e
        if response.status_code in (400, 406, 415):
            raise QueryError(f"{what}: the SPARQL server refused the request: {response.text[:500]}")
        if response.status_code >= 300:
            raise StoreError(f"{what}: the SPARQL server answered {response.status_code}: {response.text[:500]}")
        return response

    def _update(self, update: str, what: str) -> None:
        self._send("POST", self.update_url, what, content=update.encode("utf-8"),
                   headers={"Content-Type": "application/sparql-update"})

    def _query_response(self, query: str, accept: str, *, union: bool,
                        timeout_s: float | None = None) -> httpx.Response:
        params = {"default-graph-uri": self.union_graph} if union and self.union_graph else {}
        return self._send("POST", self.query_url, "query", timeout_s=timeout_s, params=params,
                          content=query.encode("utf-8"),
                          headers={"Content-Type": "application/sparql-query", "Accept": accept})

    def _post_query(self, query: str, accept: str, *, union: bool) -> bytes:
        return self._query_response(query, accept, union=union).content

    def _results(self, query: str, *, union: bool) -> QuerySolutions | QueryBoolean:
        body = self._post_query(query, JSON_RESULTS, union=union)
        return parse_query_results(body, format=QueryResultsFormat.JSON)

    def _select(self, query: str, bindings: Bindings | None, *, union: bool) -> list[Row]:
        result = self._results(bind_values(query, bindings), union=union)
        if not isinstance(result, QuerySolutions):
            raise QueryError("expected a SELECT query")
        names, rows = solutions_table(result)
        return [dict(zip(names, row, strict=True)) for row in rows]
