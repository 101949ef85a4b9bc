"""SPARQL 1.1 Protocol endpoint, read only (scope `sparql`; decision 0013): GET ?query=…, a POST form or
an application/sparql-query body. Updates, SERVICE, unparseable text and a LIMIT above the row cap are
refused with 400; a query without a LIMIT gets the cap; past the timeout it answers 503. Results come
by content negotiation (RESULT_TYPES, GRAPH_TYPES).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from threading import Lock
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pyparsing import ParseException, ParseResults
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from starlette.concurrency import run_in_threadpool

from qualkg.api.security import require

router = APIRouter(prefix="/sparql", tags=["sparql"], dependencies=[require("sparql")])

RESULT_TYPES = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"]
GRAPH_TYPES = ["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"]
ALIASES = {"application/json": "application/sparql-results+json", "application/xml": "application/sparql-results+xml",
           "json": "application/sparql-results+json", "xml": "application/sparql-results+xml", "csv": "text/csv",
           "tsv": "text/tab-separated-values", "turtle": "text/turtle", "ttl": "text/turtle",
           "jsonld": "application/ld+json", "nt": "application/n-triples"}


def _walk(node: Any) -> Iterator[Any]:
    """Every node of an rdflib SPARQL parse tree."""
    yield node
    if isinstance(node, CompValue):
        children: Any = node.values()
    elif isinstance(node, (ParseResults, list, tuple)):
        children = node
    else:
        return
    for child in children:
        yield from _walk(child)


_PARSER_LOCK = Lock()  # rdflib's SPARQL parser (pyparsing) is not thread-safe: concurrent parses raise TypeError


@lru_cache(maxsize=256)
def check_query(text: str, max_rows: int) -> tuple[str, str]:
    """(query form, the query to run). Raises 400 for updates, SERVICE and bad syntax; accepted texts are
    kept (decision 0013)."""
    try:
        with _PARSER_LOCK:
            parsed = parseQuery(text)
    except ParseException as e:
        lowered = text.lower()
        if any(w in lowered for w in ("insert", "delete", "load", "clear", "drop", "create", "copy", "move", "add")):
            raise HTTPException(400, "this endpoint is read only: SPARQL Update is refused") from None
        raise HTTPException(400, f"not a SPARQL query: {e}") from None
    query = parsed[1]
    form = query.name  # SelectQuery | AskQuery | ConstructQuery | DescribeQuery
    if any(isinstance(n, CompValue) and n.name == "ServiceGraphPattern" for n in _walk(query)):
        raise HTTPException(400, "SERVICE (federated query) is refused: the server does not fetch other endpoints")
    if form == "AskQuery":
        return form, text
    if "valuesClause" in query:
        raise HTTPException(400, "put VALUES inside the WHERE clause: a trailing VALUES block cannot be combined "
                                 "with the row cap")
    paging = query["limitoffset"] if "limitoffset" in query else {}
    limit = paging["limit"] if "limit" in paging else None
    if limit is None:
        return form, f"{text}\nLIMIT {max_rows}"
    if int(limit) > max_rows:
        raise HTTPException(400, f"LIMIT {limit} is above this endpoint's row cap of {max_rows}")
    return form, text


def _media(request: Request, form: str) -> str:
    offered = RESULT_TYPES if form in ("SelectQuery", "AskQuery") else GRAPH_TYPES
    explicit = request.query_params.get("format")
    accepted = [p.split(";")[0].strip() for p in request.headers.get("accept", "").split(",")]
    candidates = [explicit] if explicit else accepted
    for c in candidates:
        c = ALIASES.get(c, c)
        if c in offered:
            return c
        if c in ("*/*", "", None) and not explicit:
            continue
        if explicit:
            raise HTTPException(406, f"format {explicit!r} is not offered for this query form; "
                                     f"offered: {', '.join(offered)}")
    return offered[0]


async def _run(request: Request, text: str | None) -> Response:
    if not text:
        raise HTTPException(400, "missing 'query'")
    config, store = request.app.state.config, request.app.state.store
    form, query = await run_in_threadpool(check_query, text, config.max_rows)  # parsing would hold the event loop
    media = _media(request, form)
    body = await run_in_threadpool(store.query_raw, query, media, config.query_timeout_s)  # errors: app.py
    return Response(body, media_type=media)


@router.get("", summary="SPARQL query (GET)")
async def sparql_get(request: Request) -> Response:
    if "update" in request.query_params:
        raise HTTPException(400, "this endpoint is read only: SPARQL Update is refused")
    return await _run(request, request.query_params.get("query"))


@router.post("", summary="SPARQL query (POST form or application/sparql-query body)")
async def sparql_post(request: Request) -> Response:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/sparql-update":
        raise HTTPException(400, "this endpoint is read only: SPARQL Update is refused")
    if ctype == "application/sparql-query":
        return await _run(request, (await request.body()).decode("utf-8", errors="replace"))
    if ctype == "application/x-www-form-urlencoded":
        form = await request.form()
        if "update" in form:
            raise HTTPException(400, "this endpoint is read only: SPARQL Update is refused")
        query = form.get("query")
        return await _run(request, query if isinstance(query, str) else None)
    raise HTTPException(415, "send the query as application/sparql-query or application/x-www-form-urlencoded")
