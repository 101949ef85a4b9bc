"""The FastAPI application factory: everything the app uses is passed in; nothing is built at import."""

from __future__ import annotations

from contextlib import asynccontextmanager
from collections.abc import AsyncIterator

from fastapi import FastAPI

from api.config import ApiConfig
from api.routes import health
from store.base import GraphStore


def create_app(config: ApiConfig, store: GraphStore) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(
        title="qualkg",
        version=config.version,
        description="Coded qualitative excerpts as one validated knowledge graph: named questions, "
        "matrix coding, co-occurrence, SPARQL and review feeds.",
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.store = store
    app.include_router(health.router)
    return app
