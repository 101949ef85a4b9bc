"""Liveness and readiness: the API is up and its store answers."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import ConfigDep, StoreDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    graphs: int


@router.get("/health", response_model=Health)
def health(store: StoreDep, config: ConfigDep) -> Health:
    return Health(status="ok", version=config.version, graphs=len(store.graphs()))
