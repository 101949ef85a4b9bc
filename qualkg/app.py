"""Builds the ASGI app from Settings (used by `qualkg serve` and by uvicorn --factory)."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from api.config import ApiConfig
from queries.catalog import default_catalog
from qualkg.settings import Settings
from qualkg.wiring import build_store

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def api_config(settings: Settings) -> ApiConfig:
    """On loopback the API grants aggregate + excerpts without a key; elsewhere keys are required."""
    open_scopes = frozenset({"aggregate", "excerpts"}) if settings.host in LOCAL_HOSTS else frozenset()
    return ApiConfig(open_scopes=open_scopes, min_cell_count=settings.min_cell_count,
                     query_timeout_s=settings.query_timeout_s, max_rows=settings.max_rows,
                     max_upload_bytes=settings.max_upload_bytes)


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_app(api_config(settings), build_store(settings), default_catalog(settings.base_iri))
