"""A study graph as Turtle, N-Quads, N-Triples, JSON-LD or TriG, or a REFI-QDA project (`qdpx`) for QDA tools.

Each contains excerpt text: scope `excerpts`. Ids that name an internal graph are no study (404).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from qualkg.api.deps import CatalogDep, StoreDep
from qualkg.api.security import require
from qualkg.ingest.writers import StudyNotFound, export_qdpx
from qualkg.store.base import MEDIA_TYPES, ExportFormat

router = APIRouter(prefix="/export", tags=["export"], dependencies=[require("excerpts")])
QDPX_MEDIA = "application/vnd.refi-qda+zip"
Exported = StrEnum("Exported", {**{f.name: f.value for f in ExportFormat}, "qdpx": "qdpx"})  # type: ignore[misc]  # functional StrEnum: the graph formats plus qdpx
_BY_MEDIA = {**{media: fmt.value for fmt, media in MEDIA_TYPES.items()}, QDPX_MEDIA: "qdpx"}
FormatQ = Annotated[Exported | None, Query(description="ttl, nq, nt, jsonld, trig or qdpx (REFI-QDA project)")]


@router.get("/{study}", summary="Export one study graph, or the study as a REFI-QDA project")
async def export_study(study: str, request: Request, store: StoreDep, catalog: CatalogDep,
                       format: FormatQ = None) -> Response:
    graph = catalog.iris.graph(study)
    if catalog.iris.reserved_study(study) or graph not in await run_in_threadpool(store.graphs):
        raise HTTPException(404, f"no study '{study}'")
    accept = request.headers.get("accept", "").split(",")[0].split(";")[0].strip()
    chosen = format.value if format is not None else _BY_MEDIA.get(accept, ExportFormat.turtle.value)
    if chosen == "qdpx":
        try:
            project = await run_in_threadpool(export_qdpx, store, catalog.iris, study)
        except StudyNotFound:
            raise HTTPException(404, f"no study '{study}'") from None
        return Response(project.data, media_type=QDPX_MEDIA,
                        headers={"Content-Disposition": f'attachment; filename="{study}.qdpx"'})
    fmt = ExportFormat(chosen)
    body = await run_in_threadpool(store.export, graph, fmt)
    return Response(body, media_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{study}.{fmt.value}"'})
