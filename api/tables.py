"""Result tables as JSON, CSV or XLSX, chosen by `?format=` or the Accept header; one layout for the API
and the CLI (decision 0102).

Formula guard: text a spreadsheet would execute (starting with =, or with + - @ and holding a call, a
reference or a DDE pipe, or starting with tab or CR) is neutralised and nothing else is changed: XLSX
cells are written as string cells, whatever their text; in CSV such a value gets a leading apostrophe
and every text starting with a formula character is quoted. Counts are integers in every format.
XLSX: a bold, frozen header with filters, widths and wrapped text, the notices on their own sheet, and
dropdowns (data validation) for columns the payload names in `dropdowns`.
"""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
from fastapi import Request
from fastapi.responses import Response
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.worksheet.datavalidation import DataValidation  # type: ignore[import-untyped]

from qualkg.queries.catalog import ParameterError

MEDIA = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# What a spreadsheet evaluates: '=…' always; '+ - @' only with a call, a cell/sheet reference or a DDE pipe.
_EXECUTED = re.compile(r"^(?:[=\t\r]|[+\-@].*(?:[(|!]|[A-Za-z]+\d+))", re.DOTALL)
MAX_WIDTH = 60  # characters; longer text wraps
NOTES_SHEET = "notes"


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


def executable(value: object) -> bool:
    """Whether a spreadsheet opening this text would evaluate it as a formula (or DDE command)."""
    return isinstance(value, str) and bool(_EXECUTED.match(value))


def _cell(value: Any) -> Any:
    """One value as it goes into a cell: missing → None, numpy scalars as Python values."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return value.item()
    return value


def integral(df: pd.DataFrame) -> pd.DataFrame:
    """Columns of numbers that are all whole (counts that held a null, so pandas made them floats) as
    integers, nulls kept; other columns unchanged."""
    out = {}
    for c in df.columns:
        values = df[c].dropna()
        if values.empty or pd.api.types.is_integer_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
            continue
        if all(isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer() for v in values):
            out[str(c)] = df[c].astype("Int64")
    return df.assign(**out) if out else df


@dataclass(frozen=True, slots=True)
class Table:
    """A rendered result table. Immutable, so a finished answer can be kept and sent again."""

    body: bytes
    media_type: str
    filename: str | None = None  # attachment name (CSV and XLSX)

    def response(self) -> Response:
        headers = {"Content-Disposition": f'attachment; filename="{self.filename}"'} if self.filename else None
        return Response(self.body, media_type=self.media_type, headers=headers)


def _csv_field(value: Any) -> str:
    """One CSV field: executable text gets an apostrophe; text starting with a formula character (or the
    apostrophe), or holding a separator, quote or line break, is quoted; everything else as it is."""
    if value is None:
        return ""
    text = str(value)
    if executable(text):
        text = "'" + text
    if text.startswith((*_FORMULA_START, "'")) or any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv(df: pd.DataFrame) -> bytes:
    lines = [",".join(_csv_field(str(c)) for c in df.columns)]
    lines += [",".join(_csv_field(_cell(v)) for v in row) for row in df.itertuples(index=False)]
    return ("\n".join(lines) + "\n").encode()


def _xlsx(df: pd.DataFrame, payload: dict[str, Any], sheet: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet[:31] or "results"
    columns = [str(c) for c in df.columns]
    ws.append(columns)
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in df.itertuples(index=False):
        ws.append([json.dumps(v, ensure_ascii=False) if isinstance(v, list | tuple | dict) else v
                   for v in map(_cell, row)])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # a string cell: never a formula, whatever the text
            cell.alignment = wrap
    for i, name in enumerate(columns, start=1):
        head = ws.cell(row=1, column=i)
        head.font, head.alignment = Font(bold=True), wrap
        longest = max([len(name), *(len(str(v)) for v in df.iloc[:200, i - 1] if _cell(v) is not None)])
        ws.column_dimensions[get_column_letter(i)].width = min(longest, MAX_WIDTH) + 2
    ws.freeze_panes = "A2"
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(ws.max_row, 1)}"
    _dropdowns(ws, columns, payload.get("dropdowns") or {})
    notes = wb.create_sheet(NOTES_SHEET)
    notes.append(["Notes"])
    notes.cell(row=1, column=1).font = Font(bold=True)
    for n in payload.get("notices", []):
        notes.append([str(n)])
        notes.cell(row=notes.max_row, column=1).data_type = "s"
        notes.cell(row=notes.max_row, column=1).alignment = wrap
    notes.column_dimensions["A"].width = 110
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _dropdowns(ws: Any, columns: list[str], dropdowns: dict[str, list[list[str] | None]]) -> None:
    """Data validation lists: `dropdowns[column][row]` are the values allowed in that cell (None: free)."""
    for name, per_row in dropdowns.items():
        if name not in columns:
            continue
        letter = get_column_letter(columns.index(name) + 1)
        by_list: dict[tuple[str, ...], list[str]] = {}
        for r, allowed in enumerate(per_row, start=2):
            if allowed:
                by_list.setdefault(tuple(allowed), []).append(f"{letter}{r}")
        for values, cells in by_list.items():
            dv = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True)
            dv.error = dv.prompt = f"one of: {', '.join(values)}"
            ws.add_data_validation(dv)
            for c in cells:
                dv.add(c)


def render_table(df: pd.DataFrame, fmt: str, payload: dict[str, Any], filename: str) -> Table:
    """The DataFrame in `fmt`; `payload` carries the JSON envelope (question, params, notices) and, for
    XLSX only, `dropdowns`."""
    df = integral(df)
    if fmt == "json":
        # pandas writes the rows (NaN/NA as null, numpy numbers as numbers) ~3x faster than
        # to_dict + json.dumps; the envelope is closed around them.
        envelope = json.dumps({**{k: v for k, v in payload.items() if k != "dropdowns"},
                               "columns": [str(c) for c in df.columns]}, ensure_ascii=False)
        rows = df.to_json(orient="records", force_ascii=False) if len(df.columns) else "[]"
        return Table(f'{envelope[:-1]}, "rows": {rows}}}'.encode(), MEDIA["json"])
    if fmt == "csv":
        return Table(_csv(df), MEDIA["csv"], f"{filename}.csv")
    return Table(_xlsx(df, payload, filename), MEDIA["xlsx"], f"{filename}.xlsx")


def table_response(df: pd.DataFrame, fmt: str, payload: dict[str, Any], filename: str) -> Response:
    return render_table(df, fmt, payload, filename).response()


def crosstab(df: pd.DataFrame, rows: str, columns: str, value: str) -> pd.DataFrame:
    """A long table as a grid: one row per `rows` value, one column per `columns` value, cells `value` (0
    where no row holds the pair, null where disclosure control hid it), with a Total column and a Total row
    that add up the cells shown (NVivo's matrix coding layout)."""
    grid = df.set_index([rows, columns])[value].unstack(columns)
    grid = grid.reindex(index=sorted(grid.index, key=str), columns=sorted(grid.columns, key=str))
    present = set(zip(df[rows], df[columns], strict=True))
    for r in grid.index:
        for c in grid.columns:
            if (r, c) not in present:
                grid.loc[r, c] = 0
    grid["Total"] = grid.sum(axis=1, skipna=True)
    grid.loc["Total"] = grid.sum(axis=0, skipna=True)
    grid.columns.name = None
    return integral(grid.rename_axis(rows).reset_index())
