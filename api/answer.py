"""One path from a named question to an HTTP answer, shared by every read route:
bind → run → disclosure control → notices → JSON / CSV / XLSX (decision 0004)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import partial

import pandas as pd
from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from neo4j.exceptions import ClientError, ServiceUnavailable, SessionExpired
from starlette.datastructures import State

from qualkg.api.answer_cache import AnswerCache, Work
from qualkg.api.disclosure import CellKeys, Disclosed, configured_keys, disclose, ephemeral_keys
from qualkg.api.security import Principal
from qualkg.api.tables import Table, choose_format, render_table
from qualkg.queries.catalog import Catalog, ParameterError, Question
from qualkg.queries.sql_catalog import SqlCatalog, default_sql_catalog
from qualkg.store.columnar import projection_of

SYNTHETIC_NOTICE = ("This answer includes SYNTHETIC excerpts written to illustrate the study design; "
                    "they are not quotations from any publication.")
RESERVED = {"format", "limit", "offset", "engine"}
ENGINES = ("store", "neo4j")


async def answer(request: Request, catalog: Catalog, qid: str, raw: Mapping[str, str | None], principal: Principal,
                 *, fmt: str | None = None, limit: int | None = None, offset: int = 0) -> Response:
    """The question's answer as a response. Checks run on the event loop, the evaluation in the thread pool;
    a kept answer is sent from the event loop."""
    state = request.app.state
    config, answers = state.config, state.answers
    try:
        question = catalog.get(qid)
    except KeyError as e:
        raise HTTPException(404, str(e.args[0])) from None
    if not principal.can(question.scope):
        code = 401 if principal.name == "anonymous" else 403
        raise HTTPException(code, f"'{qid}' needs the '{question.scope}' scope: it lists individual records "
                                  "(one row per excerpt or participant)")
    engine = request.query_params.get("engine") or config.engine
    if engine not in ENGINES:
        raise ParameterError("engine", engine, "enum", f"must be one of: {', '.join(ENGINES)}")
    page = min(limit or config.max_rows, config.max_rows) if question.paged else None
    fmt = choose_format(request, fmt)
    may_read_excerpts = principal.can("excerpts")
    render = partial(_render, state, catalog, question, engine, raw, page, offset, fmt, may_read_excerpts)
    if engine == "store" and isinstance(answers, AnswerCache):
        key = _kept_as(question, raw, page, offset, fmt, may_read_excerpts)
        kept = answers.kept(key)
        table = kept if isinstance(kept, Table) else await run_in_threadpool(answers.remember, key, render)
        return table.response()
    return (await run_in_threadpool(render)).response()


def default_answers(state: State) -> list[Work]:
    """Every question of the app's catalog that needs no parameter, keyed and rendered as `answer` answers it
    asked bare on the store engine, as JSON, for a caller with and one without the 'excerpts' scope."""
    catalog, config = state.catalog, state.config
    work: list[Work] = []
    for question in catalog.questions.values():
        if question.needs_a_value:
            continue
        page = config.max_rows if question.paged else None
        for may_read_excerpts in (True, False) if question.scope != "excerpts" else (True,):
            work.append((_kept_as(question, {}, page, 0, "json", may_read_excerpts),
                         partial(_render, state, catalog, question, "store", {}, page, 0, "json", may_read_excerpts)))
    return work


def _kept_as(question: Question, raw: Mapping[str, str | None], page: int | None, offset: int, fmt: str,
             may_read_excerpts: bool) -> tuple[object, ...]:
    """The key a finished answer is kept under: everything it depends on besides the store's content."""
    return question.id, question.sparql, tuple(sorted(raw.items())), page, offset, fmt, may_read_excerpts


_KEYS_LOCK = threading.Lock()


def cell_keys(state: State) -> CellKeys:
    """The app's cell keys (api/disclosure.py): `state.cell_keys` when set, else made once from the
    config's secret (configured_keys), else under a random secret for this app's life (logged)."""
    keys = getattr(state, "cell_keys", None)
    if keys is None:
        with _KEYS_LOCK:
            keys = getattr(state, "cell_keys", None)
            if keys is None:
                keys = configured_keys(state.config) or ephemeral_keys()
                state.cell_keys = keys
    return keys


def sql_catalog(state: State) -> SqlCatalog:
    """The SQL twins of the app's catalog (`state.sql` when set, else made once)."""
    sql = getattr(state, "sql", None)
    if sql is None:
        with _KEYS_LOCK:
            sql = getattr(state, "sql", None)
            if sql is None:
                sql = state.sql = default_sql_catalog(state.catalog)
    return sql


def disclosed(state: State, question: Question, df: pd.DataFrame, may_read_excerpts: bool) -> Disclosed:
    """`disclose` with the app's threshold and cell keys; `df` holds the record columns (`records=True`)."""
    return disclose(df, question, may_read_excerpts=may_read_excerpts, k=state.config.min_cell_count,
                    keys=None if may_read_excerpts else cell_keys(state))


def _render(state: State, catalog: Catalog, question: Question, engine: str, raw: Mapping[str, str | None],
            page: int | None, offset: int, fmt: str, may_read_excerpts: bool) -> Table:
    """Run → disclosure control → notices → the table in `fmt`. Rows are cut to `max_rows` after disclosure
    control, which may order them again: a cut by the exact order would say which cells are largest."""
    config = state.config
    df = run_on_engine(state, catalog, engine, question.id, raw, page, offset, records=not may_read_excerpts)
    shown = disclosed(state, question, df, may_read_excerpts)
    truncated = len(shown.frame) > config.max_rows
    notices = []
    if _has_synthetic(df):
        notices.append(SYNTHETIC_NOTICE)
    if shown.perturbed:
        notices.append("Counts of excerpts, participants, events, teams and co-occurrences are perturbed: each "
                       "record counts 0, 1 or 2 times and a small noise is added (a count c is off by about "
                       "√(c/2 + 1.5)); the same records always give the same value. Counts below "
                       f"{config.min_cell_count}, before or after perturbation, are null. Exact counts need the "
                       "'excerpts' scope.")
    if shown.suppressed:
        notices.append(f"{shown.suppressed} count(s) hidden (null).")
    if shown.text_removed:
        notices.append("Excerpt text omitted: it needs the 'excerpts' scope.")
    if truncated:
        notices.append(f"Only the first {config.max_rows} rows are returned.")
    payload = {"question": question.id, "title": question.title,
               "params": {k: v for k, v in raw.items() if v not in (None, "")},
               "suppressed": shown.suppressed, "notices": notices}
    return render_table(shown.frame.head(config.max_rows), fmt, payload, question.id)


def _has_synthetic(df: pd.DataFrame) -> bool:
    """Whether a `synthetic` column (a flag per excerpt, or a count of synthetic excerpts) is ever true."""
    return "synthetic" in df.columns and bool(pd.to_numeric(df["synthetic"], errors="coerce").fillna(0).gt(0).any())


def run_on_engine(state: State, catalog: Catalog, engine: str, qid: str, raw: Mapping[str, str | None],
                  limit: int | None, offset: int, *, records: bool) -> pd.DataFrame:
    """The question on the chosen engine: the RDF store — its SQL twin on the columnar projection while that
    is current, else the SPARQL (decision 0131) — or its Neo4j projection (Cypher twin); with the hidden
    record columns when `records` (for disclosure control)."""
    config = state.config
    if engine == "store":
        projection, sql = projection_of(state.store), sql_catalog(state)
        if projection is not None and projection.current and qid in sql.twins and sql.catalog is catalog:
            return sql.run(projection, qid, raw, limit=limit, offset=offset, records=records, store=state.store)
        return catalog.run(state.store, qid, raw, limit=limit, offset=offset, records=records)
    if state.neo4j is None:
        raise HTTPException(400, "this server has no Neo4j projection configured (QUALKG_NEO4J_URI)")
    try:
        return state.cypher.run(state.neo4j, qid, raw, limit, offset, database=config.neo4j_database,
                                timeout_s=config.query_timeout_s, records=records)
    except (ServiceUnavailable, SessionExpired) as e:
        raise HTTPException(503, f"Neo4j is unavailable: {e}") from None
    except ClientError as e:
        if "Timeout" in (e.code or ""):
            limit_hit = f"the question took longer than the configured limit on Neo4j: {e.message}"
            raise HTTPException(503, limit_hit) from None
        raise HTTPException(400, f"Neo4j refused the question: {e.message}") from None
