"""Resource listings, each a named question with typed filters: participants, teams, themes, codes, excerpts.

Listings with one row per person or excerpt (participants, excerpts) need the `excerpts` scope: counting
their rows would undo disclosure control (decision 0070)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from qualkg.api.answer import answer
from qualkg.api.deps import CatalogDep
from qualkg.api.routes.questions import FormatQ, LimitQ, OffsetQ
from qualkg.api.security import PrincipalDep, require

router = APIRouter(tags=["resources"], dependencies=[require("aggregate")])

StudyQ = Annotated[str | None, Query(description="Study id.")]
RoleQ = Annotated[str | None, Query(description="Role concept, e.g. peer-practitioner.")]
FeatureQ = Annotated[str | None, Query(description="Organisational feature, e.g. flattened-hierarchy.")]


@router.get("/participants", summary="Participants by pseudonym with role, team and counts (scope excerpts)")
async def participants(request: Request, catalog: CatalogDep, principal: PrincipalDep, study: StudyQ = None,
                 role: RoleQ = None, format: FormatQ = None) -> Response:
    return await answer(request, catalog, "participants", {"study": study, "role": role}, principal, fmt=format)


@router.get("/teams", summary="Teams with organisation and organisational features")
async def teams(request: Request, catalog: CatalogDep, principal: PrincipalDep, study: StudyQ = None,
          feature: FeatureQ = None, format: FormatQ = None) -> Response:
    return await answer(request, catalog, "teams", {"study": study, "feature": feature}, principal, fmt=format)


@router.get("/themes", summary="Themes and subthemes with excerpt counts")
async def themes(request: Request, catalog: CatalogDep, principal: PrincipalDep, study: StudyQ = None,
           level: Annotated[str, Query(pattern="^(theme|subtheme|all)$")] = "theme",
           format: FormatQ = None) -> Response:
    return await answer(request, catalog, "codebook", {"study": study, "level": level}, principal, fmt=format)


@router.get("/codes", summary="Codes with their parents and excerpt counts")
async def codes(request: Request, catalog: CatalogDep, principal: PrincipalDep, study: StudyQ = None,
          format: FormatQ = None) -> Response:
    return await answer(request, catalog, "codebook", {"study": study, "level": "code"}, principal, fmt=format)


@router.get("/excerpts", summary="Excerpts with speaker, role, team, event and provenance (scope excerpts)")
async def excerpts(request: Request, catalog: CatalogDep, principal: PrincipalDep, study: StudyQ = None,
             code: Annotated[str | None, Query(description="Code/subtheme/theme IRI; descendants included.")] = None,
             role: RoleQ = None, feature: FeatureQ = None,
             mode: Annotated[str | None, Query(description="Collection mode, e.g. focus-group.")] = None,
             synthetic: Annotated[bool | None, Query()] = None,
             contains: Annotated[str | None, Query(max_length=500)] = None,
             format: FormatQ = None, limit: LimitQ = 100, offset: OffsetQ = 0) -> Response:
    raw = {"study": study, "code": code, "role": role, "feature": feature, "mode": mode,
           "synthetic": None if synthetic is None else str(synthetic).lower(), "contains": contains}
    return await answer(request, catalog, "excerpts", raw, principal, fmt=format, limit=limit, offset=offset)
