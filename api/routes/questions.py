"""The catalog of named questions and a runner for any of them; the matrix also as a crosstab."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from qualkg.api.answer import RESERVED, answer, disclosed
from qualkg.api.deps import CatalogDep
from qualkg.api.security import Principal, PrincipalDep, require
from qualkg.api.tables import choose_format, crosstab, table_response
from qualkg.queries.catalog import Catalog, ParameterError, Question

router = APIRouter(prefix="/questions", tags=["questions"], dependencies=[require("aggregate")])

FormatQ = Annotated[str | None, Query(description="json (default), csv or xlsx; or use the Accept header.")]
LimitQ = Annotated[int | None, Query(ge=1, le=100_000, description="Rows per page (paged questions).")]
OffsetQ = Annotated[int, Query(ge=0, le=10_000_000, description="Rows to skip (paged questions).")]


def describe(q: Question) -> dict[str, Any]:
    return {
        "id": q.id, "title": q.title, "description": q.description.strip(), "paged": q.paged,
        "params": [p.model_dump(exclude_none=True) for p in q.params],
        "columns": [c.model_dump(exclude_none=True, exclude={"records", "hidden"}) for c in q.published],
    }


@router.get("", summary="List the named questions with their parameter schemas")
def list_questions(catalog: CatalogDep) -> list[dict[str, Any]]:
    return [describe(q) for q in sorted(catalog.questions.values(), key=lambda q: q.id)]


@router.get("/{qid}/schema", summary="One question's parameters and columns")
def question_schema(qid: str, catalog: CatalogDep) -> dict[str, Any]:
    try:
        return describe(catalog.get(qid))
    except KeyError as e:
        raise HTTPException(404, str(e.args[0])) from None


LAYOUTS = ("long", "crosstab")
MEASURES = ("excerpts", "participants", "studies")
CROSSTAB_PARAMS = {"layout", "measure"}  # the matrix's own, beside its question parameters


@router.get("/{qid}", summary="Run a named question; its parameters go in the query string",
            description="The matrix also takes `layout=crosstab` (rows × columns with totals, as NVivo's matrix "
                        "coding shows it) and `measure=excerpts|participants|studies` (the cells; default excerpts).")
async def run_question(qid: str, request: Request, catalog: CatalogDep, principal: PrincipalDep,
                 format: FormatQ = None, limit: LimitQ = None, offset: OffsetQ = 0) -> Response:
    raw = {k: v for k, v in request.query_params.items() if k not in RESERVED}
    if qid == "matrix" and CROSSTAB_PARAMS & set(raw):
        return await _matrix(request, catalog, principal, format, raw)
    return await answer(request, catalog, qid, raw, principal, fmt=format, limit=limit, offset=offset)


async def _matrix(request: Request, catalog: Catalog, principal: Principal, format: str | None,
                  raw: dict[str, str]) -> Response:
    """The matrix in `layout`: long (as the question answers) or crosstab; cells after disclosure control
    (null when hidden), totals adding up the cells shown."""
    layout, measure = raw.pop("layout", "long"), raw.pop("measure", "excerpts")
    if layout not in LAYOUTS:
        raise ParameterError("layout", layout, "choice", f"must be one of: {', '.join(LAYOUTS)}")
    if measure not in MEASURES:
        raise ParameterError("measure", measure, "choice", f"must be one of: {', '.join(MEASURES)}")
    if layout == "long":
        return await answer(request, catalog, "matrix", raw, principal, fmt=format)
    fmt = choose_format(request, format)
    state, may_read_excerpts = request.app.state, principal.can("excerpts")
    question = catalog.get("matrix")

    def run() -> Response:
        df = catalog.run(state.store, "matrix", raw, records=not may_read_excerpts)
        shown = disclosed(state, question, df, may_read_excerpts)
        grid = crosstab(shown.frame, "row", "column", measure)
        column = question.column(measure)
        notices = [f"Cells: {column.label if column and column.label else measure}. Total adds up the cells "
                   "shown (a hidden cell counts 0)."]
        if shown.perturbed or shown.suppressed:
            notices.append("Counts passed disclosure control: perturbed, and those below the threshold hidden "
                           "(null); exact counts need the 'excerpts' scope.")
        return table_response(grid, fmt, {"question": "matrix", "layout": "crosstab", "measure": measure,
                                          "params": raw, "notices": notices}, "matrix-crosstab")

    return await run_in_threadpool(run)
