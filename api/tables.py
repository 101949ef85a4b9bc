"""Result tables as JSON, CSV or XLSX, chosen by `?format=` or the Accept header.

CSV and XLSX cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR)
are prefixed with an apostrophe, so a results page opens in Excel as data, never as code.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd
from fastapi import HTTPException, Request
from fastapi.responses import Response

MEDIA = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def choose_format(request: Request, explicit: str | None) -> str:
    """`?format=` wins; otherwise the first Accept type we serve; JSON by default."""
    if explicit:
        if explicit not in MEDIA:
            raise HTTPException(422, [{"loc": ["query", "format"], "msg": f"format must be one of: {', '.join(MEDIA)}",
                                       "type": "enum", "input": explicit}])
        return explicit
    accept = request.headers.get("accept", "")
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        for name, served in MEDIA.items():
            if media == served.split(";")[0]:
                return name
    return "json"


def _defuse(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def table_response(df: pd.DataFrame, fmt: str, payload: dict[str, Any], filename: str) -> Response:
    """The DataFrame as a response; `payload` carries the JSON envelope (question, params, notices)."""
    if fmt == "json":
        # pandas writes the rows (NaN/NA as null, numpy numbers as numbers) ~3x faster than
        # to_dict + json.dumps; the envelope is closed around them.
        envelope = json.dumps({**payload, "columns": [str(c) for c in df.columns]}, ensure_ascii=False)
        rows = df.to_json(orient="records", force_ascii=False) if len(df.columns) else "[]"
        return Response(f'{envelope[:-1]}, "rows": {rows}}}', media_type="application/json")
    safe = df.map(_defuse)
    if fmt == "csv":
        return Response(safe.to_csv(index=False), media_type=MEDIA["csv"],
                        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        safe.to_excel(writer, index=False, sheet_name=filename[:31] or "results")
        notes = pd.DataFrame({"note": [str(n) for n in payload.get("notices", [])] or [""]})
        notes.to_excel(writer, index=False, sheet_name="notes")
    return Response(buf.getvalue(), media_type=MEDIA["xlsx"],
                    headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'})
