"""Result tables as JSON, CSV or XLSX, chosen by `?format=` or the Accept header.

CSV and XLSX cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR)
are prefixed with an apostrophe, so a results page opens in Excel as data, never as code.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
from fastapi import Request
from fastapi.responses import Response

from qualkg.queries.catalog import ParameterError

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
            raise ParameterError("format", explicit, "enum", f"must be one of: {', '.join(MEDIA)}")
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


@dataclass(frozen=True, slots=True)
class Table:
    """A rendered result table. Immutable, so a finished answer can be kept and sent again."""

    body: bytes
    media_type: str
    filename: str | None = None  # attachment name (CSV and XLSX)

    def response(self) -> Response:
        headers = {"Content-Disposition": f'attachment; filename="{self.filename}"'} if self.filename else None
        return Response(self.body, media_type=self.media_type, headers=headers)


def render_table(df: pd.DataFrame, fmt: str, payload: dict[str, Any], filename: str) -> Table:
    """The DataFrame in `fmt`; `payload` carries the JSON envelope (question, params, notices)."""
    if fmt == "json":
        # pandas writes the rows (NaN/NA as null, numpy numbers as numbers) ~3x faster than
        # to_dict + json.dumps; the envelope is closed around them.
        envelope = json.dumps({**payload, "columns": [str(c) for c in df.columns]}, ensure_ascii=False)
        rows = df.to_json(orient="records", force_ascii=False) if len(df.columns) else "[]"
        return Table(f'{envelope[:-1]}, "rows": {rows}}}'.encode(), MEDIA["json"])
    # Cell by cell, as objects: DataFrame.map would make a count column holding a null a float column (3.0).
    safe = pd.DataFrame({c: pd.Series([_defuse(v) for v in df[c]], index=df.index, dtype=object) for c in df.columns},
                        columns=df.columns)
    if fmt == "csv":
        return Table(safe.to_csv(index=False).encode(), MEDIA["csv"], f"{filename}.csv")
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        safe.to_excel(writer, index=False, sheet_name=filename[:31] or "results")
        notes = pd.DataFrame({"note": [str(n) for n in payload.get("notices", [])] or [""]})
        notes.to_excel(writer, index=False, sheet_name="notes")
    return Table(buf.getvalue(), MEDIA["xlsx"], f"{filename}.xlsx")


def table_response(df: pd.DataFrame, fmt: str, payload: dict[str, Any], filename: str) -> Response:
    return render_table(df, fmt, payload, filename).response()
