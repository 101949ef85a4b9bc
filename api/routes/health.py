"""Liveness and readiness: the API is up and its store answers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from qualkg.api.deps import ConfigDep, StoreDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    graphs: int
    answers_warm: bool | None = Field(None, description="Whether the named questions' default answers for the "
                                      "current content are ready in memory (null: this server does not keep "
                                      "them warm).")


@router.get("/health", response_model=Health)
def health(request: Request, store: StoreDep, config: ConfigDep) -> Health:
    answers = request.app.state.answers
    warm = answers.wait_warm(0) if answers is not None and answers.keeps_warm else None
    return Health(status="ok", version=config.version, graphs=len(store.graphs()), answers_warm=warm)
