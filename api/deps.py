"""Dependencies shared by the routers: the store, the config and the catalog, taken from app.state.
`async def`, since they do no I/O (decision 0004)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from qualkg.api.config import ApiConfig
from qualkg.queries.catalog import Catalog
from qualkg.store.base import GraphStore


async def get_store(request: Request) -> GraphStore:
    return request.app.state.store


async def get_config(request: Request) -> ApiConfig:
    return request.app.state.config


StoreDep = Annotated[GraphStore, Depends(get_store)]
ConfigDep = Annotated[ApiConfig, Depends(get_config)]


async def get_catalog(request: Request) -> Catalog:
    return request.app.state.catalog


CatalogDep = Annotated[Catalog, Depends(get_catalog)]
