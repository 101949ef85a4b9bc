"""A study graph as Turtle, N-Quads or JSON-LD (contains excerpt text: scope `excerpts`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from qualkg.api.deps import CatalogDep, StoreDep
from qualkg.api.security import require
from qualkg.store.base import MEDIA_TYPES, ExportFormat

router = APIRouter(prefix="/export", tags=["export"], dependencies=[require("excerpts")])
_BY_MEDIA = {media: fmt for fmt, media in MEDIA_TYPES.items()}
FormatQ = Annotated[ExportFormat | None, Query(description="ttl, nq, nt, jsonld or trig")]


@router.get("/{study}", summary="Export one study graph")
def export_study(study: str, request: Request, store: StoreDep, catalog: CatalogDep,
                 format: FormatQ = None) -> Response:
    graph = catalog.iris.graph(study)
    if graph not in store.graphs():
        raise HTTPException(404, f"no study '{study}'")
    accept = request.headers.get("accept", "").split(",")[0].split(";")[0].strip()
    fmt = format or _BY_MEDIA.get(accept, ExportFormat.turtle)
    return Response(store.export(graph, fmt), media_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{study}.{fmt.value}"'})
