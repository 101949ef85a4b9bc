"""The FastAPI application factory: everything the app uses is passed in; nothing is built at import."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from neo4j import Driver

from qualkg.api.answer import default_answers
from qualkg.api.answer_cache import AnswerCache
from qualkg.api.config import ApiConfig
from qualkg.api.middleware import install_middleware
from qualkg.api.routes import (
    explorer,
    export,
    health,
    questions,
    resources,
    sparql,
    studies,
    study_lifecycle,
    synthesis,
    vocab,
)
from qualkg.api.security import KeyRing
from qualkg.ingest.errors import IngestError
from qualkg.queries.catalog import Catalog, ParameterError
from qualkg.queries.cypher_catalog import default_cypher_catalog
from qualkg.store.base import GraphStore, QueryError, QueryTimeout, StoreError
from qualkg.store.cached import CachedStore
from qualkg.synthesis.errors import SynthesisError

log = logging.getLogger(__name__)
# Where the store lives is the operator's business, not the caller's: file paths and URLs
# (a server's address, a RocksDB file) are cut from the answer and kept in the server log.
_LOCATIONS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s>]+|(?<![\w.])/[^\s:'\"()<>]+")


def create_app(config: ApiConfig, store: GraphStore, catalog: Catalog, neo4j: Driver | None = None) -> FastAPI:
    """The app over a store (and, when given, the Neo4j projection answering the Cypher twins). Over a
    CachedStore it keeps finished answers (`config.answer_cache`), warm while it serves (`config.warm_answers`)."""
    answers = AnswerCache(store, config.answer_cache) if isinstance(store, CachedStore) and config.answer_cache \
        else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if answers is not None and config.warm_answers and config.engine == "store":
            answers.keep_warm(default_answers(app.state))
        yield
        store.close()  # also ends the warming: CachedStore.close wakes it and lets its evaluation end
        if neo4j is not None:
            neo4j.close()

    app = FastAPI(
        title="qualkg",
        version=config.version,
        description="Coded qualitative excerpts as one validated knowledge graph: named questions, "
        "matrix coding, co-occurrence, a read-only SPARQL endpoint and study ingest. "
        "Participants appear only by pseudonym; excerpt text needs the 'excerpts' scope.",
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.keyring = KeyRing(config)
    app.state.store = store
    app.state.answers = answers
    app.state.catalog = catalog
    app.state.neo4j = neo4j
    app.state.cypher = default_cypher_catalog(catalog) if neo4j is not None else None
    app.state.write_lock = threading.Lock()
    for module in (health, questions, studies, study_lifecycle, resources, sparql, export, synthesis, vocab, explorer):
        app.include_router(module.router)
    app.add_exception_handler(ParameterError, _parameter_refused)  # domain errors as answers: decision 0018
    app.add_exception_handler(IngestError, _input_refused)
    app.add_exception_handler(SynthesisError, _input_refused)
    app.add_exception_handler(QueryError, _query_refused)
    app.add_exception_handler(QueryTimeout, _query_timed_out)
    app.add_exception_handler(StoreError, _store_unavailable)
    install_middleware(app, config)
    return app


async def _parameter_refused(request: Request, exc: Exception) -> JSONResponse:
    """422 in the shape of FastAPI's own validation errors: which query parameter, which value, which rule."""
    assert isinstance(exc, ParameterError)
    return JSONResponse({"detail": [{"loc": ["query", exc.param], "msg": str(exc), "type": exc.rule,
                                     "input": exc.value}]}, status_code=422)


async def _input_refused(request: Request, exc: Exception) -> JSONResponse:
    """422 with every located problem (file, element or row, field, value, rule); nothing was written."""
    assert isinstance(exc, IngestError | SynthesisError)
    return JSONResponse({"written": False, "problems": [p.as_dict() for p in exc.problems]}, status_code=422)


async def _query_refused(request: Request, exc: Exception) -> JSONResponse:
    """The query itself is wrong (syntax, unsupported form, a result format it cannot give): 400."""
    return JSONResponse({"detail": str(exc)}, status_code=400)


async def _query_timed_out(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": f"the query ran past the configured timeout: {exc}"}, status_code=503)


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The store (embedded directory or SPARQL server) failed: the service is unavailable, not broken. The
    answer keeps the cause ("No space left on device") without paths and URLs; the full message is logged."""
    log.warning("%s %s: the graph store is unavailable: %s", request.method, request.url.path, exc)
    return JSONResponse({"detail": f"the graph store is unavailable: {_LOCATIONS.sub('…', str(exc))}"},
                        status_code=503, headers={"Retry-After": "5"})
