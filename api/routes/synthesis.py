"""Cross-study synthesis feeds: review findings, CERQual evidence profiles, SoQF, JBI, references, alignment
suggestions; and, with the 'review' scope, recording judgements, mapping reviews and mapping sets.

Tables come as JSON, CSV or XLSX (api/tables.py); counts pass disclosure control (a CERQual profile's counts
are those of /synthesis/findings, perturbed alike). Feeds count reviewed mappings; `mappings=all` adds the
proposed ones, with a notice (docs/synthesis.md).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from qualkg.api.answer import disclosed
from qualkg.api.deps import CatalogDep, StoreDep
from qualkg.api.security import PrincipalDep, require
from qualkg.api.tables import choose_format, table_response
from qualkg.queries.catalog import Catalog
from qualkg.store.base import GraphStore, StoreError
from qualkg.synthesis import feeds
from qualkg.synthesis.judgements import (
    Assessment,
    MappingReview,
    current_assessments,
    record_assessment,
    record_mapping_review,
)
from qualkg.synthesis.loader import import_mapping_set, proposed_view
from qualkg.synthesis.mappings import read_sssom
from qualkg.synthesis.questions import synthesis_catalog
from qualkg.synthesis.suggest import suggest

router = APIRouter(prefix="/synthesis", tags=["synthesis"], dependencies=[require("aggregate")])

FormatQ = Annotated[str | None, Query(description="json (default), csv or xlsx; or use the Accept header.")]
FindingQ = Annotated[str | None, Query(description="A review finding's notation, e.g. F1 (default: all).")]
MappingsQ = Annotated[Literal["reviewed", "all"], Query(
    description="reviewed (default): only mappings a reviewer confirmed; all: proposed ones too, with a notice.")]
MAX_SSSOM_BYTES = 5_000_000


_ONE_VIEW = threading.BoundedSemaphore(1)  # mappings=all copies the store: one copy at a time, not one per caller
VIEW_WAIT_S = 10.0


@contextmanager
def _view(store: GraphStore, catalog: Catalog, mappings: str) -> Iterator[GraphStore]:
    """The store, or with mappings=all an in-memory copy that also asserts the proposed mappings; while
    another caller's copy exists a second waits up to VIEW_WAIT_S, then is told to retry (503)."""
    if mappings != "all":
        yield store
        return
    if not _ONE_VIEW.acquire(timeout=VIEW_WAIT_S):
        raise StoreError("another mappings=all answer is being built; try again shortly")
    try:
        view = proposed_view(store, catalog.iris)
        try:
            yield view
        finally:
            view.close()
    finally:
        _ONE_VIEW.release()


def _support(request: Request, store: GraphStore, catalog: Catalog, principal: Any, finding: str | None) -> Any:
    """recurring-findings after disclosure control (records kept for it only without 'excerpts')."""
    may_read_excerpts = principal.can("excerpts")
    params = {"finding": finding} if finding else {}
    df = catalog.run(store, "recurring-findings", params, records=not may_read_excerpts)
    return disclosed(request.app.state, catalog.get("recurring-findings"), df, may_read_excerpts)


@router.get("/findings", summary="Review findings with their support across studies (recurring-findings)")
def findings(request: Request, store: StoreDep, catalog: CatalogDep, principal: PrincipalDep, format: FormatQ = None,
             mappings: MappingsQ = "reviewed") -> Response:
    """One row per finding; each citation marked [review], [unverified], [synthetic data]; overlap of reviews."""
    fmt = choose_format(request, format)
    with _view(store, catalog, mappings) as view:
        shown = _support(request, view, catalog, principal, None)
        table = feeds.annotate_findings(shown.frame, feeds.finding_studies(view, catalog))
        notes = feeds.notices(view, catalog, proposed=mappings == "all")
    return table_response(table, fmt, {"question": "recurring-findings", "mappings": mappings, "notices": notes},
                          "findings")


@router.get("/findings/{finding}/cerqual", summary="GRADE-CERQual evidence profile of one finding (iSoQ codes)")
def cerqual(finding: str, request: Request, store: StoreDep, catalog: CatalogDep, principal: PrincipalDep,
            format: FormatQ = None, mappings: MappingsQ = "reviewed") -> Response:
    fmt = choose_format(request, format)
    with _view(store, catalog, mappings) as view:
        try:
            detail = feeds.finding_detail(view, catalog, finding)
        except feeds.UnknownFinding:
            raise HTTPException(404, f"no review finding '{finding}'") from None
        shown = _support(request, view, catalog, principal, finding)
        studies = feeds.finding_studies(view, catalog, finding).get(finding, [])
        assessment = current_assessments(view, catalog.iris, finding).get((finding, "cerqual"))
        notes = feeds.notices(view, catalog, proposed=mappings == "all")
    profile = feeds.evidence_profile({str(c): v for c, v in shown.frame.iloc[0].items()}, detail, studies, assessment)
    if fmt == "json":
        return JSONResponse({**profile, "notices": notes})
    table = feeds.evidence_profile_table(profile)
    return table_response(table, fmt, {"notices": notes, "dropdowns": feeds.dropdowns(table)}, f"cerqual-{finding}")


@router.get("/soqf", summary="Summary of Qualitative Findings table, with the recorded CERQual assessments")
def soqf(request: Request, store: StoreDep, catalog: CatalogDep, format: FormatQ = None,
         mappings: MappingsQ = "reviewed") -> Response:
    with _view(store, catalog, mappings) as view:
        df, notes = feeds.soqf(view, catalog), feeds.notices(view, catalog, proposed=mappings == "all")
    return table_response(df, choose_format(request, format), {"notices": notes, "dropdowns": feeds.dropdowns(df)},
                          "soqf")


@router.get("/jbi", summary="JBI meta-aggregation worksheet (illustrations need the 'excerpts' scope)")
def jbi(request: Request, store: StoreDep, catalog: CatalogDep, principal: PrincipalDep, finding: FindingQ = None,
        format: FormatQ = None, mappings: MappingsQ = "reviewed") -> Response:
    """One row per illustration, with its speaker, for callers with 'excerpts'; for the others one row per
    study finding without illustrations (jbi-outline): rows per excerpt could be counted."""
    excerpts = principal.can("excerpts")
    with _view(store, catalog, mappings) as view:
        df, warnings = feeds.jbi(view, catalog, finding, excerpts=excerpts)
        notes = [*warnings, *feeds.notices(view, catalog, proposed=mappings == "all")]
    qid = "jbi" if excerpts else "jbi-outline"
    return table_response(df, choose_format(request, format), {"question": qid, "notices": notes}, qid)


@router.get("/references.ris", summary="References of the studies mapped to review findings, as RIS")
def references_ris(store: StoreDep, catalog: CatalogDep, finding: FindingQ = None,
                   mappings: MappingsQ = "reviewed") -> Response:
    with _view(store, catalog, mappings) as view:
        refs = feeds.references(view, catalog, finding)
    return Response(feeds.to_ris(refs), media_type="application/x-research-info-systems",
                    headers={"Content-Disposition": 'attachment; filename="references.ris"'})


@router.get("/references.csl.json", summary="References of the studies mapped to review findings, as CSL-JSON")
def references_csl(store: StoreDep, catalog: CatalogDep, finding: FindingQ = None,
                   mappings: MappingsQ = "reviewed") -> Response:
    with _view(store, catalog, mappings) as view:
        refs = feeds.references(view, catalog, finding)
    return Response(feeds.to_csl_json(refs), media_type="application/vnd.citationstyles.csl+json")


@router.get("/suggestions", summary="Lexical alignment suggestions between two studies' themes (never stored)")
def suggestions(request: Request, store: StoreDep, catalog: CatalogDep,
                a: Annotated[str, Query(description="Study id A.")],
                b: Annotated[str, Query(description="Study id B.")],
                min_score: Annotated[float, Query(ge=0, le=1)] = 0.3, format: FormatQ = None) -> Response:
    df = suggest(store, catalog, a, b, min_score=min_score)  # ParameterError: 422 (app.py)
    notices = ["Suggestions only: nothing was written. "
               "Accept one by adding it to an SSSOM file with your justification."]
    return table_response(df, choose_format(request, format), {"notices": notices}, "suggestions")


@router.get("/mapping-sets", summary="The mapping sets held, with how many mappings are reviewed or proposed")
def mapping_sets(store: StoreDep, catalog: CatalogDep) -> list[dict[str, Any]]:
    df = synthesis_catalog(catalog.iris).run(store, "mapping-review-status", {})
    return [{"set": str(s), "demonstration": bool(d), "reviewed": int(r), "proposed": int(p)}
            for s, d, r, p in zip(df["set"], df["demonstration"], df["reviewed"], df["proposed"], strict=True)]


# -- recording (scope 'review') --------------------------------------------------------------------

@router.post("/findings/{finding}/assessment", status_code=201, dependencies=[require("review")],
             summary="Record a CERQual, JBI or ConQual assessment of a review finding (replaces, never deletes)")
async def assess(finding: str, request: Request,
                 assessment: Annotated[Assessment, Body(description="method: cerqual | jbi | conqual")]
                 ) -> JSONResponse:
    state = request.app.state

    def run() -> JSONResponse:
        with state.write_lock:
            try:
                iri = record_assessment(state.store, state.catalog.iris, finding, assessment)
            except KeyError:
                raise HTTPException(404, f"no review finding '{finding}'") from None
        return JSONResponse({"judgement": iri, "finding": finding, "method": assessment.method}, status_code=201)

    return await run_in_threadpool(run)


@router.post("/mappings/review", status_code=201, dependencies=[require("review")],
             summary="Record a second person's review of one mapping: it then counts as evidence")
async def review_mapping(request: Request, review: Annotated[MappingReview, Body()]) -> JSONResponse:
    state = request.app.state

    def run() -> JSONResponse:
        with state.write_lock:
            iri = record_mapping_review(state.store, state.catalog.iris, review)
        return JSONResponse({"review": iri, "mapping_set_id": review.mapping_set_id}, status_code=201)

    return await run_in_threadpool(run)


@router.post("/mapping-sets", status_code=201, dependencies=[require("review")],
             summary="Import (or replace) a user mapping set: SSSOM TSV as the request body, all or nothing",
             openapi_extra={"requestBody": {"content": {"text/tab-separated-values": {"schema": {"type": "string"}}},
                                            "required": True}})
async def import_set(request: Request) -> JSONResponse:
    body = await request.body()
    if len(body) > MAX_SSSOM_BYTES:
        raise HTTPException(413, f"an SSSOM file of at most {MAX_SSSOM_BYTES} bytes")
    state = request.app.state

    def run() -> JSONResponse:
        with tempfile.TemporaryDirectory(prefix="qualkg-sssom-") as folder:
            path = Path(folder) / "upload.sssom.tsv"
            path.write_bytes(body)
            mset = read_sssom(path, "request body")
        with state.write_lock:
            report = import_mapping_set(state.store, state.catalog.iris, mset, "request body")
        return JSONResponse({"mapping_set_id": mset.id, "mappings": len(mset.mappings),
                             "reviewed": sum(bool(m.reviewer_id) for m in mset.mappings),
                             "mapping_sets": report.mapping_sets}, status_code=201)

    return await run_in_threadpool(run)
