"""Liveness and readiness: the API is up and its store answers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from qualkg.api.deps import ConfigDep, StoreDep
from qualkg.store.columnar import projection_of

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    graphs: int
    answers_warm: bool | None = Field(None, description="Whether the named questions' default answers for the "
                                      "current content are ready in memory (null: this server does not keep "
                                      "them warm).")
    projection_current: bool | None = Field(None, description="Whether the columnar projection holds what the "
                                            "graph holds, so questions with an SQL twin are answered from it "
                                            "(null: this server keeps no projection).")
    projection_stale: list[str] = Field(default_factory=list, description="Graphs whose last projection refresh "
                                        "failed; their questions are answered by SPARQL until they are written "
                                        "again or `qualkg reindex` runs.")


@router.get("/health", response_model=Health)
def health(request: Request, store: StoreDep, config: ConfigDep) -> Health:
    answers = request.app.state.answers
    warm = answers.wait_warm(0) if answers is not None and answers.keeps_warm else None
    projection = projection_of(store)
    return Health(status="ok", version=config.version, graphs=len(store.graphs()), answers_warm=warm,
                  projection_current=projection.current if projection is not None else None,
                  projection_stale=projection.stale if projection is not None else [])
