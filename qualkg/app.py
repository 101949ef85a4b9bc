"""Builds the ASGI app from Settings (used by `qualkg serve` and by uvicorn --factory)."""

from __future__ import annotations

import socket
from importlib.metadata import version
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from qualkg.api.app import create_app
from qualkg.api.config import ApiConfig, ApiSettings
from qualkg.api.security import KeyFile
from qualkg.queries.catalog import default_catalog
from qualkg.settings import Settings
from qualkg.store.shared import remove_record, write_record
from qualkg.wiring import build_store, neo4j_driver

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def api_config(settings: Settings) -> ApiConfig:
    """The API's fields of `settings`; the cell-key secret beside an embedded store unless one is configured."""
    open_scopes = frozenset({"aggregate", "excerpts"}) if settings.host in LOCAL_HOSTS else frozenset()
    fields = settings.model_dump(include=set(ApiSettings.model_fields))
    if fields["cell_key_file"] is None and settings.store == "oxigraph":
        # kept beside the store, so the same records get the same noise after a restart (decision 0070)
        fields["cell_key_file"] = settings.store_path.with_name(settings.store_path.name + ".cell-key")
    KeyFile(settings.keys_path()).read()  # a keys file that does not parse stops the start, not each request
    # the keys file is read by the server's KeyRing, again whenever `qualkg keys` changes it (decision 0116)
    return ApiConfig(**fields, version=version("qualkg"), open_scopes=open_scopes, keys_file=settings.keys_path())


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    neo4j = neo4j_driver(settings) if settings.neo4j_uri else None
    store = build_store(settings, serving=True)
    return create_app(api_config(settings), store, default_catalog(settings.base_iri), neo4j)


class AnnouncingServer(uvicorn.Server):
    """uvicorn that, while it serves, records its address beside the embedded store it writes, so the CLI
    and `qualkg.connect()` find it (store.shared; decision 0115)."""

    def __init__(self, config: uvicorn.Config, store_path: Path | None) -> None:
        super().__init__(config)
        self.store_path = store_path

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.store_path is not None:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
            write_record(self.store_path, f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}")

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.store_path is not None:
            remove_record(self.store_path)
        await super().shutdown(sockets)


def serve(settings: Settings) -> None:
    """Serve the app of `settings` on its host and port until stopped."""
    app = build_app(settings)
    config = uvicorn.Config(app, host=settings.host, port=settings.port)
    AnnouncingServer(config, settings.store_path if settings.store == "oxigraph" else None).run()
