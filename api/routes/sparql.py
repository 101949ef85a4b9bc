"""Read-only SPARQL 1.1 Protocol endpoint (scope `sparql`): GET ?query=…, a form or a sparql-query body.

The normalised text (`normalise`) is checked and run; updates, SERVICE, FROM, bad text and a LIMIT over
the cap get 400. Sandbox outcomes map to 503/413; results by content negotiation (decisions 0013, 0060).
A query without LIMIT gets the row cap, said in `Qualkg-Row-Cap`; a SELECT answer cut at it also carries
`Qualkg-Rows-Truncated` (decision 0125).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from threading import Lock
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pyparsing import ParseException, ParseResults
from rdflib.plugins.sparql.parser import expandUnicodeEscapes, parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from starlette.concurrency import run_in_threadpool

from qualkg.api.security import require
from qualkg.store.base import GraphStore, QueryError, QueryTimeout
from qualkg.store.sandbox import QueryTooLarge, SandboxBusy, SandboxError

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


# One SPARQL token that can hold a '#' or a line break that is not a comment's: an IRI, a string (long
# strings as the grammar has them: up to two quotes inside, then a character that is not one), or an
# escaped character of a prefixed name (PN_LOCAL_ESC, e.g. ex:a\#b); and comments, which end at CR or LF
# for Oxigraph but only at LF for rdflib. Anything else is code, one run of it at a time.
_Q1, _Q3 = "'", "'''"
_D1, _D3 = '"', '"""'
_LONG = "|".join(
    f"{q3}(?:[^{q1}\\\\]|\\\\[^\\r\\n]|{q1}(?!{q1}{q1}))*{q3}" for q1, q3 in ((_Q1, _Q3), (_D1, _D3)))
_SHORT = "|".join(f"{q}(?:[^{q}\\\\\\r\\n]|\\\\[^\\r\\n])*{q}" for q in (_Q1, _D1))
_TOKENS = re.compile("|".join((
    r"(?P<comment>#[^\r\n]*)",
    r'(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)',
    f"(?P<long>{_LONG})",
    f"(?P<short>{_SHORT})",
    r"(?P<escaped>\\[^\r\n])",
    r"""(?P<code>[^#<'"\\]+|.)""",
)), re.DOTALL)
_UNICODE_ESCAPE = re.compile(r"\\[uU][0-9A-Fa-f]{4}")
# A keyword in code, not part of a prefixed name (ex:service), a variable (?from) or a language tag (@from).
_SERVICE = re.compile(r"(?<![\w:?$@])SERVICE(?![\w:-])", re.IGNORECASE)
_FROM = re.compile(r"(?<![\w:?$@])FROM(?![\w:-])", re.IGNORECASE)
_REFUSED_SERVICE = "SERVICE (federated query) is refused: the server does not fetch other endpoints"
_REFUSED_FROM = ("FROM and FROM NAMED are refused: a query here always runs on every graph (the default graph is "
                 "the union of the named graphs); choose graphs with GRAPH <…> { … } instead")


def normalise(text: str) -> tuple[str, str]:
    """(the text to check and run, the code outside IRIs, strings and comments).

    \\u escapes expanded as rdflib does, comments removed, carriage returns turned into LF (or `\\r` in a
    long string): rdflib and Oxigraph read the result alike. :raises: 400 if expansion made a new escape
    (decision 0060).
    """
    try:
        text = expandUnicodeEscapes(text)
    except ValueError as e:
        raise HTTPException(400, f"not a SPARQL query: {e}") from None
    out: list[str] = []
    code: list[str] = []
    for m in _TOKENS.finditer(text):
        kind, token = m.lastgroup, m.group()
        if kind == "comment":
            token = " "
        elif kind == "long":
            token = token.replace("\r", "\\r")
        elif kind == "code":
            token = token.replace("\r", "\n")
        out.append(token)
        code.append(token if kind in ("code", "escaped", "comment") else " ")
    normalised = "".join(out)
    if _UNICODE_ESCAPE.search(normalised) or "\r" in normalised:
        raise HTTPException(400, "not a SPARQL query: a \\u escape that spells another \\u escape, or a carriage "
                                 "return where the grammar allows none")
    try:
        normalised.encode("utf-8")
    except UnicodeEncodeError:
        raise HTTPException(400, "not a SPARQL query: a \\u escape names half of a surrogate pair") from None
    return normalised, "".join(code)


_PARSER_LOCK = Lock()  # rdflib's SPARQL parser (pyparsing) is not thread-safe: concurrent parses raise TypeError


MAX_NESTING = 20  # braces, brackets, parentheses: rdflib's recursive parser exhausts the stack from ~25 parentheses


def _refuse_by_text(code: str) -> None:
    """400 for SERVICE, FROM / FROM NAMED, or nesting past MAX_NESTING in the query's code."""
    if _SERVICE.search(code):
        raise HTTPException(400, _REFUSED_SERVICE)
    if _FROM.search(code):
        raise HTTPException(400, _REFUSED_FROM)
    if _nesting(code) > MAX_NESTING:
        raise HTTPException(400, f"the query nests groups or expressions more than {MAX_NESTING} deep")


def _nesting(code: str) -> int:
    """The deepest nesting of `{`, `(` and `[` in query code (strings, IRIs and comments already removed)."""
    depth = deepest = 0
    for char in code:
        if char in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "})]":
            depth -= 1
    return deepest


@lru_cache(maxsize=256)
def check_query(text: str, max_rows: int) -> tuple[str, str, bool]:
    """(query form, the query to run: the normalised text, whether the server added the row cap). A SELECT
    without LIMIT gets LIMIT max_rows + 1, so `cut_to_cap` can tell a cut answer (decision 0125). Raises 400
    for updates, SERVICE, FROM / FROM NAMED and bad syntax; accepted texts are kept (decision 0013)."""
    text, code = normalise(text)
    _refuse_by_text(code)
    try:
        with _PARSER_LOCK:
            parsed = parseQuery(text)
    except RecursionError:  # a shape of nesting the depth check does not count
        raise HTTPException(400, "the query nests too deeply for the checking parser") from None
    except ParseException as e:
        lowered = text.lower()
        if any(w in lowered for w in ("insert", "delete", "load", "clear", "drop", "create", "copy", "move", "add")):
            raise HTTPException(400, "this endpoint is read only: SPARQL Update is refused") from None
        raise HTTPException(400, f"not a SPARQL query: {e}") from None
    query = parsed[1]
    form = query.name  # SelectQuery | AskQuery | ConstructQuery | DescribeQuery
    if any(isinstance(n, CompValue) and n.name == "ServiceGraphPattern" for n in _walk(query)):
        raise HTTPException(400, _REFUSED_SERVICE)
    if "datasetClause" in query:
        raise HTTPException(400, _REFUSED_FROM)
    if form == "AskQuery":
        return form, text, False
    if "valuesClause" in query:
        raise HTTPException(400, "put VALUES inside the WHERE clause: a trailing VALUES block cannot be combined "
                                 "with the row cap")
    paging = query["limitoffset"] if "limitoffset" in query else {}
    limit = paging["limit"] if "limit" in paging else None
    if limit is None:
        return form, f"{text}\nLIMIT {max_rows + 1 if form == 'SelectQuery' else max_rows}", True
    if int(limit) > max_rows:
        raise HTTPException(400, f"LIMIT {limit} is above this endpoint's row cap of {max_rows}")
    return form, text, False


# A record end in SPARQL CSV (a line break outside a quoted field) and in TSV (every line break: TSV escapes them).
_CSV_RECORD = re.compile(rb'"[^"]*(?:""[^"]*)*"|\n')
_TSV_RECORD = re.compile(rb"\n")
_XML_RESULT = re.compile(rb"<result[\s/>]")


def cut_to_cap(body: bytes, media: str, cap: int) -> tuple[bytes, bool]:
    """(the SELECT answer with at most `cap` rows, whether a row was cut) for a body of up to cap + 1 rows
    in one of RESULT_TYPES."""
    if media == "application/sparql-results+json":
        answer = json.loads(body)
        rows = answer["results"]["bindings"]
        if len(rows) <= cap:
            return body, False
        del rows[cap:]
        return json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), True
    if media == "application/sparql-results+xml":
        starts = [m.start() for m in _XML_RESULT.finditer(body)]
        if len(starts) <= cap:
            return body, False
        start = starts[cap]
        end = start + len(b"<result/>") if body.startswith(b"<result/>", start) else \
            body.index(b"</result>", start) + len(b"</result>")
        return body[:start] + body[end:], True
    pattern = _CSV_RECORD if media == "text/csv" else _TSV_RECORD
    ends = [m.end() for m in pattern.finditer(body) if m.group() == b"\n"]  # ends[0]: the header's
    if ends and ends[-1] < len(body):
        ends.append(len(body))  # a last record without a line break
    if len(ends) - 1 <= cap:
        return body, False
    return body[:ends[cap]], True


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
    form, query, capped = await run_in_threadpool(check_query, text, config.max_rows)  # parsing holds the loop
    media = _media(request, form)
    body = await run_in_threadpool(_evaluate, store, query, media, config.query_timeout_s)
    if not capped:
        return Response(body, media_type=media)
    headers = {"Qualkg-Row-Cap": str(config.max_rows)}
    if form == "SelectQuery":
        body, cut = await run_in_threadpool(cut_to_cap, body, media, config.max_rows)
        if cut:
            headers["Qualkg-Rows-Truncated"] = str(config.max_rows)
    return Response(body, media_type=media, headers=headers)


def _evaluate(store: GraphStore, query: str, media: str, timeout_s: float) -> bytes:
    """The store's answer; the sandbox's refusals as what they are, not as the store being unavailable. Other
    StoreErrors (a SPARQL server that is down, a disk that is full) go to the app's handler (503)."""
    try:
        return store.query_raw(query, media, timeout_s)
    except QueryError as e:
        raise HTTPException(400, f"the query failed: {e}") from None
    except QueryTimeout as e:
        raise HTTPException(503, f"the query ran past the configured timeout of {timeout_s:g} s: {e}") from None
    except QueryTooLarge as e:
        raise HTTPException(413, str(e)) from None
    except SandboxBusy as e:
        raise HTTPException(503, str(e), headers={"Retry-After": str(int(e.retry_after_s))}) from None
    except SandboxError as e:
        raise HTTPException(503, str(e)) from None


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
