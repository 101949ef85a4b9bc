"""A study after its ingest: delete it, or edit its title and descriptive metadata (scope `ingest`).

Both are one write under the app's write lock; an edit is validated by the same SHACL gate as an ingest
(422 with the problems, nothing written). Reserved and unknown ids answer 404. The Neo4j projection
follows when configured (decision 0117).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pyoxigraph import Literal, NamedNode, Triple
from starlette.concurrency import run_in_threadpool

from qualkg.api.routes.studies import _STUDY_ID
from qualkg.api.security import require
from qualkg.ingest.errors import IngestError
from qualkg.ingest.validate import gate
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import DCTERMS, QK
from qualkg.store.base import GraphStore
from qualkg.store.studies import UnknownStudy, delete_study, study_triples

router = APIRouter(prefix="/studies", tags=["studies"])

# The study.yaml fields an edit may change, and the property each is written as (ingest/mapping.py _study).
EDITABLE: dict[str, str] = {
    "title": str(DCTERMS.title), "description": str(DCTERMS.description), "design": str(QK.design),
    "analysis": str(QK.analysisMethod), "setting": str(QK.setting), "sample": str(QK.sampleDescription)}


class StudyEdit(BaseModel):
    """The fields to change; a field left out stays, `null` removes it (the title cannot be removed)."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=1000)
    description: str | None = Field(None, max_length=20_000)
    design: str | None = Field(None, max_length=1000)
    analysis: str | None = Field(None, max_length=1000)
    setting: str | None = Field(None, max_length=1000)
    sample: str | None = Field(None, max_length=5000)

    @model_validator(mode="after")
    def _something_to_change(self) -> StudyEdit:
        if not self.model_fields_set:
            raise ValueError(f"give at least one of {', '.join(EDITABLE)}")
        if "title" in self.model_fields_set and self.title is None:
            raise ValueError("a study keeps its title: give a new one instead of null")
        return self


def edit_study(store: GraphStore, iris: IriScheme, study: str, edit: StudyEdit) -> int:
    """Change the study node's fields in `edit`, validate the graph, and replace it; return its triples.

    :raises UnknownStudy: no such study. :raises IngestError: the edited graph does not conform.
    """
    node = NamedNode(iris.study(study))
    changes = {EDITABLE[name]: getattr(edit, name) for name in edit.model_fields_set}
    kept = [t for t in study_triples(store, iris, study) if not (t.subject == node and t.predicate.value in changes)]
    new = [Triple(node, NamedNode(prop), Literal(value)) for prop, value in changes.items() if value]
    problems = [p for p in gate(kept + new, file=f"edit of study '{study}'") if p.severity == "error"]
    if problems:
        raise IngestError(problems)
    return store.replace_graph(iris.graph(study), kept + new)


def _known(study: str) -> str:
    if not _STUDY_ID.match(study):
        raise HTTPException(404, f"no study '{study}'")
    return study


def _sync_neo4j(request: Request, graphs: list[str], deleted: bool) -> dict[str, object] | None:
    """Follow the write in Neo4j when it is configured; the store stands when Neo4j fails."""
    from neo4j.exceptions import DriverError, Neo4jError

    from qualkg.projection.neo4j import ProjectionError, drop_graph, sync_written

    state = request.app.state
    if state.neo4j is None or not state.config.neo4j_auto_sync:
        return None
    try:
        if deleted:
            for g in graphs:
                drop_graph(state.neo4j, g, state.config.neo4j_database)
        else:
            sync_written(state.store, state.neo4j, graphs, database=state.config.neo4j_database)
    except (DriverError, Neo4jError, ProjectionError) as e:
        return {"synced": False, "error": f"{type(e).__name__}: {e}", "repair": "run `qualkg sync neo4j`"}
    return {"synced": True}


@router.delete("/{study}", summary="Delete a study (its graph and log graph) in one step",
               dependencies=[require("ingest")], responses={404: {"description": "No such study."}})
async def remove_study(study: str, request: Request) -> dict[str, object]:
    state = request.app.state
    study = _known(study)

    def run() -> dict[str, object]:
        with state.write_lock:
            try:
                graphs = delete_study(state.store, state.catalog.iris, study)
            except UnknownStudy as e:
                raise HTTPException(404, str(e)) from None
            return {"study": study, "deleted": graphs, "neo4j": _sync_neo4j(request, graphs, deleted=True)}

    return await run_in_threadpool(run)


@router.patch("/{study}", summary="Edit a study's title and descriptive metadata (validated; no re-ingest)",
              dependencies=[require("ingest")],
              responses={404: {"description": "No such study."},
                         422: {"description": "An unknown field or value, or the edited study graph does not "
                                              "conform to the shapes (`written: false` and the problems)."}})
async def change_study(study: str, request: Request, edit: Annotated[StudyEdit, Body()]) -> dict[str, object]:
    state = request.app.state
    study = _known(study)

    def run() -> dict[str, object]:
        with state.write_lock:
            try:
                triples = edit_study(state.store, state.catalog.iris, study, edit)
            except UnknownStudy as e:
                raise HTTPException(404, str(e)) from None
            graph = state.catalog.iris.graph(study)
            return {"study": study, "changed": sorted(edit.model_fields_set), "triples": triples,
                    "neo4j": _sync_neo4j(request, [graph], deleted=False)}

    return await run_in_threadpool(run)
