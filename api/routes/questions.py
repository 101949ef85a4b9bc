"""The catalog of named questions and a runner for any of them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from qualkg.api.answer import RESERVED, answer
from qualkg.api.deps import CatalogDep
from qualkg.api.security import PrincipalDep, require
from qualkg.queries.catalog import Question

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


@router.get("/{qid}", summary="Run a named question; its parameters go in the query string")
async def run_question(qid: str, request: Request, catalog: CatalogDep, principal: PrincipalDep,
                 format: FormatQ = None, limit: LimitQ = None, offset: OffsetQ = 0) -> Response:
    raw = {k: v for k, v in request.query_params.items() if k not in RESERVED}
    return await answer(request, catalog, qid, raw, principal, fmt=format, limit=limit, offset=offset)
