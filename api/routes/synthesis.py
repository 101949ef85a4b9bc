"""Cross-study synthesis feeds: review findings, CERQual evidence-profile drafts, SoQF, JBI, references,
alignment suggestions. Tables come as JSON, CSV or XLSX (api/tables.py); counts pass disclosure control
(a CERQual profile's counts are those of /synthesis/findings, perturbed alike)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from qualkg.api.answer import answer, disclosed
from qualkg.api.deps import CatalogDep, StoreDep
from qualkg.api.security import PrincipalDep, require
from qualkg.api.tables import choose_format, table_response
from qualkg.synthesis import feeds
from qualkg.synthesis.questions import synthesis_catalog
from qualkg.synthesis.suggest import suggest

router = APIRouter(prefix="/synthesis", tags=["synthesis"], dependencies=[require("aggregate")])

FormatQ = Annotated[str | None, Query(description="json (default), csv or xlsx; or use the Accept header.")]
FindingQ = Annotated[str | None, Query(description="A review finding's notation, e.g. F1 (default: all).")]


@router.get("/findings", summary="Review findings with their support across studies (recurring-findings)")
async def findings(request: Request, catalog: CatalogDep, principal: PrincipalDep, format: FormatQ = None) -> Response:
    return await answer(request, catalog, "recurring-findings", {}, principal, fmt=format)


@router.get("/findings/{finding}/cerqual", summary="GRADE-CERQual evidence-profile draft of one finding (iSoQ codes)")
def cerqual(finding: str, request: Request, store: StoreDep, catalog: CatalogDep, principal: PrincipalDep,
            format: FormatQ = None) -> Response:
    try:
        detail = feeds.finding_detail(store, catalog, finding)
    except feeds.UnknownFinding:
        raise HTTPException(404, f"no review finding '{finding}'") from None
    may_read_excerpts = principal.can("excerpts")
    support = catalog.run(store, "recurring-findings", {"finding": finding}, records=not may_read_excerpts)
    shown = disclosed(request.app.state, catalog.get("recurring-findings"), support, may_read_excerpts)
    profile = feeds.evidence_profile({str(column): v for column, v in shown.frame.iloc[0].items()}, detail)
    fmt = choose_format(request, format)
    if fmt == "json":
        return JSONResponse(profile)
    notices = ["Draft: the options and explanations are for reviewers to complete (iSoQ codes).",
               f"Concern: {feeds.CONCERNS}", f"Confidence: {feeds.CONFIDENCE}"]
    return table_response(feeds.evidence_profile_table(profile), fmt, {"notices": notices}, f"cerqual-{finding}")


@router.get("/soqf", summary="Summary of Qualitative Findings table skeleton")
def soqf(request: Request, store: StoreDep, catalog: CatalogDep, format: FormatQ = None) -> Response:
    return table_response(feeds.soqf(store, catalog), choose_format(request, format),
                          {"notices": ["Skeleton: the assessments are for reviewers to complete."]}, "soqf")


@router.get("/jbi", summary="JBI meta-aggregation worksheet (illustrations need the 'excerpts' scope)")
async def jbi(request: Request, catalog: CatalogDep, principal: PrincipalDep, finding: FindingQ = None,
              format: FormatQ = None) -> Response:
    """One row per illustration, with its speaker, for callers with 'excerpts'; for the others one row per
    study finding without illustrations (jbi-outline): rows per excerpt could be counted."""
    qid = "jbi" if principal.can("excerpts") else "jbi-outline"
    return await answer(request, synthesis_catalog(catalog.iris), qid, {"finding": finding}, principal, fmt=format)


@router.get("/references.ris", summary="References of the studies mapped to review findings, as RIS")
def references_ris(store: StoreDep, catalog: CatalogDep, finding: FindingQ = None) -> Response:
    return Response(feeds.to_ris(feeds.references(store, catalog, finding)),
                    media_type="application/x-research-info-systems",
                    headers={"Content-Disposition": 'attachment; filename="references.ris"'})


@router.get("/references.csl.json", summary="References of the studies mapped to review findings, as CSL-JSON")
def references_csl(store: StoreDep, catalog: CatalogDep, finding: FindingQ = None) -> Response:
    return Response(feeds.to_csl_json(feeds.references(store, catalog, finding)),
                    media_type="application/vnd.citationstyles.csl+json")


@router.get("/suggestions", summary="Lexical alignment suggestions between two studies' themes (never stored)")
def suggestions(request: Request, store: StoreDep, catalog: CatalogDep,
                a: Annotated[str, Query(description="Study id A.")],
                b: Annotated[str, Query(description="Study id B.")],
                min_score: Annotated[float, Query(ge=0, le=1)] = 0.3, format: FormatQ = None) -> Response:
    df = suggest(store, catalog, a, b, min_score=min_score)  # ParameterError: 422 (app.py)
    notices = ["Suggestions only: nothing was written. "
               "Accept one by adding it to an SSSOM file with your justification."]
    return table_response(df, choose_format(request, format), {"notices": notices}, "suggestions")
