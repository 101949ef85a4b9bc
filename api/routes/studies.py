"""Studies: list, one study's overview, and ingest by upload (scope `ingest`)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from neo4j.exceptions import DriverError, Neo4jError
from starlette.concurrency import run_in_threadpool

from qualkg.api.answer import answer
from qualkg.api.deps import CatalogDep
from qualkg.api.routes.questions import FormatQ
from qualkg.api.security import PrincipalDep, require
from qualkg.ingest.pipeline import ingest
from qualkg.ingest.readers import EXTENSIONS, ReadOptions
from qualkg.projection.neo4j import ProjectionError, sync_written

router = APIRouter(prefix="/studies", tags=["studies"])
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_STUDY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@router.get("", summary="Every study with citation and counts", dependencies=[require("aggregate")])
async def list_studies(request: Request, catalog: CatalogDep, principal: PrincipalDep,
                       format: FormatQ = None) -> Response:
    return await answer(request, catalog, "studies", {}, principal, fmt=format)


@router.get("/{study}", summary="One study's overview: participants by role, events by type, themes",
            dependencies=[require("aggregate")])
async def study_overview(study: str, request: Request, catalog: CatalogDep, principal: PrincipalDep,
                         format: FormatQ = None) -> Response:
    graphs = await run_in_threadpool(request.app.state.store.graphs)
    if not _STUDY_ID.match(study) or catalog.iris.graph(study) not in graphs:
        raise HTTPException(404, f"no study '{study}'")
    return await answer(request, catalog, "study-overview", {"study": study}, principal, fmt=format)


@router.post("", summary="Ingest an upload (.qdpx, .qdc, .csv, .xlsx or a study-package .zip); all or nothing",
             dependencies=[require("ingest")], status_code=201)
async def upload_study(request: Request, file: Annotated[UploadFile, File()],
                       study: Annotated[str | None, Form(pattern=_STUDY_ID.pattern)] = None,
                       preset: Annotated[str, Form(pattern="^(auto|taguette|maxqda)$")] = "auto",
                       dry_run: Annotated[bool, Form()] = False) -> JSONResponse:
    config, app_state = request.app.state.config, request.app.state
    name = _SAFE_NAME.sub("_", Path(file.filename or "upload").name)[-100:] or "upload"
    if Path(name).suffix.lower() not in EXTENSIONS:
        raise HTTPException(415, f"unsupported upload '{name}': expected one of {', '.join(sorted(EXTENSIONS))}")
    with tempfile.TemporaryDirectory(prefix="qualkg-upload-") as tmp:
        target = Path(tmp) / name
        size = 0
        with target.open("wb") as out:
            while chunk := await file.read(1 << 20):
                size += len(chunk)
                if size > config.max_upload_bytes:
                    raise HTTPException(413, f"upload larger than {config.max_upload_bytes} bytes")
                out.write(chunk)

        def run() -> JSONResponse:
            with app_state.write_lock:  # one writer at a time: a batch is replaced atomically
                report = ingest(target, app_state.store, app_state.catalog.iris,
                                options=ReadOptions(study, preset), dry_run=dry_run)  # IngestError: 422 (app.py)
                body = report.as_dict()
                if report.written and app_state.neo4j is not None and config.neo4j_auto_sync:
                    body["neo4j"] = _sync_neo4j(request, [s.graph for s in report.studies])
            return JSONResponse(body, status_code=200 if dry_run else 201)

        return await run_in_threadpool(run)


def _sync_neo4j(request: Request, graphs: list[str]) -> dict[str, object]:
    """Project the graphs just written (and the model) into Neo4j. The store is the record: when
    Neo4j fails, the upload still stands and the answer says how to catch the projection up."""
    state = request.app.state
    try:
        synced = sync_written(state.store, state.neo4j, graphs, database=state.config.neo4j_database)
    except (DriverError, Neo4jError, ProjectionError) as e:
        return {"synced": False, "error": f"{type(e).__name__}: {e}",
                "repair": "run `qualkg sync neo4j` once Neo4j is reachable"}
    return {"synced": True, "nodes": synced.nodes, "relationships": synced.relationships}
