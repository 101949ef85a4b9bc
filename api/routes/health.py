"""Liveness and readiness: the API is up and its store answers."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from qualkg.api.deps import ConfigDep, StoreDep
from qualkg.store.cached import CachedStore

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    graphs: int
    answers_warm: bool | None = Field(None, description="Whether the named questions' default answers for the "
                                      "current content are ready in memory (null: this server does not keep them warm).")


@router.get("/health", response_model=Health)
def health(store: StoreDep, config: ConfigDep) -> Health:
    warm = store.wait_warm(0) if isinstance(store, CachedStore) and store.keeps_warm else None
    return Health(status="ok", version=config.version, graphs=len(store.graphs()), answers_warm=warm)
