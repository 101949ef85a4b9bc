"""Builds the ASGI app from Settings (used by `qualkg serve` and by uvicorn --factory)."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

from fastapi import FastAPI
from pydantic import TypeAdapter

from qualkg.api.app import create_app
from qualkg.api.config import ApiConfig, ApiKey, ApiSettings
from qualkg.queries.catalog import default_catalog
from qualkg.settings import Settings
from qualkg.wiring import build_store, neo4j_driver

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def load_api_keys(path: Path | None) -> list[ApiKey]:
    """API keys from a JSON list of {name, key_sha256, scopes, expires?, revoked?}; none without a file."""
    if path is None:
        return []
    return TypeAdapter(list[ApiKey]).validate_json(path.read_bytes())


def api_config(settings: Settings) -> ApiConfig:
    """The API's fields of `settings`; the cell-key secret beside an embedded store unless one is configured."""
    open_scopes = frozenset({"aggregate", "excerpts"}) if settings.host in LOCAL_HOSTS else frozenset()
    fields = settings.model_dump(include=set(ApiSettings.model_fields))
    if fields["cell_key_file"] is None and settings.store == "oxigraph":
        # kept beside the store, so the same records get the same noise after a restart (decision 0070)
        fields["cell_key_file"] = settings.store_path.with_name(settings.store_path.name + ".cell-key")
    return ApiConfig(**fields, version=version("qualkg"), open_scopes=open_scopes,
                     keys=load_api_keys(settings.api_keys_file))


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    neo4j = neo4j_driver(settings) if settings.neo4j_uri else None
    store = build_store(settings, serving=True)
    return create_app(api_config(settings), store, default_catalog(settings.base_iri), neo4j)
