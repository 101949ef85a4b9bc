"""Result tables (api/tables.py): the formula guard, integer counts, the XLSX layout and the matrix crosstab.
Hand-made frames; the crosstab over live HTTP on the fixture study (tests/fixture_study.py)."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from qualkg.api.tables import crosstab, executable, render_table
from tests.conftest import LiveServer

# Labels that are data (an NVivo code "+Government", a range "-3", a plain word) and two a spreadsheet would
# run (a formula, a DDE call); counts with a null, so pandas holds them as floats.
FRAME = pd.DataFrame({
    "label": ["+Government", "=SUM(A1:A2)", "-3", "@cmd|' /C calc'!A0", "plain, with a comma"],
    "count": [4.0, None, 2.0, 0.0, 1.0],
    "share": [0.5, 0.25, 1.0, 0.0, 0.125],
})


@pytest.mark.parametrize(("text", "runs"), [
    ("+Government", False), ("-3", False), ("plain", False), ("=SUM(A1:A2)", True), ("=x", True),
    ("@cmd|' /C calc'!A0", True), ("+A1", True), ("-Peer (PSW)", True), ("\tx", True), ("@home", False),
])
def test_what_a_spreadsheet_would_execute(text: str, runs: bool) -> None:
    assert executable(text) is runs


def test_csv_changes_only_what_would_run_and_counts_are_integers() -> None:
    """By hand: '+Government' and '-3' quoted but unchanged; the formula and the DDE call get an apostrophe;
    4.0 → 4, the null → empty; shares keep their decimals."""
    text = render_table(FRAME, "csv", {}, "t").body.decode()
    assert text.splitlines() == [
        "label,count,share",
        '"+Government",4,0.5',
        "\"'=SUM(A1:A2)\",,0.25",
        '"-3",2,1.0',
        "\"'@cmd|' /C calc'!A0\",0,0.0",
        '"plain, with a comma",1,0.125',
    ]


def test_json_counts_are_integers() -> None:
    rows = __import__("json").loads(render_table(FRAME, "json", {"notices": []}, "t").body)["rows"]
    assert [r["count"] for r in rows] == [4, None, 2, 0, 1]
    assert [r["label"] for r in rows] == list(FRAME["label"])


def test_xlsx_layout() -> None:
    """Bold frozen header with a filter, widths, wrapped text; every text as a string cell with its text
    unchanged (the formula is not run and gets no apostrophe); the notices on their own sheet; dropdowns."""
    payload = {"notices": ["First sentence.", "Second sentence."],
               "dropdowns": {"count": [["0", "1"], None, ["0", "1"], None, None]}}
    wb = openpyxl.load_workbook(io.BytesIO(render_table(FRAME, "xlsx", payload, "results").body))
    assert wb.sheetnames == ["results", "notes"]
    ws = wb["results"]
    assert [c.value for c in ws[1]] == ["label", "count", "share"]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:C6"
    assert [ws.cell(row=r, column=1).value for r in range(2, 7)] == list(FRAME["label"])
    assert {ws.cell(row=r, column=1).data_type for r in range(2, 7)} == {"s"}
    assert [ws.cell(row=r, column=2).value for r in range(2, 7)] == [4, None, 2, 0, 1]
    assert ws.cell(row=2, column=1).alignment.wrap_text
    assert ws.column_dimensions["A"].width == len("plain, with a comma") + 2
    assert [c.value for c in wb["notes"]["A"]] == ["Notes", "First sentence.", "Second sentence."]
    [dv] = ws.data_validations.dataValidation
    assert (dv.formula1, str(dv.sqref)) == ('"0,1"', "B2 B4")


def test_crosstab_by_hand() -> None:
    """Rows a, b; columns x, y: (a,x)=2, (a,y) hidden, (b,x)=1, (b,y) absent → 0. Totals add the cells shown."""
    long = pd.DataFrame({"row": ["a", "a", "b"], "column": ["x", "y", "x"], "n": [2.0, None, 1.0]})
    grid = crosstab(long, "row", "column", "n")
    assert list(grid.columns) == ["row", "x", "y", "Total"]
    assert [tuple(None if pd.isna(v) else v for v in r) for r in grid.itertuples(index=False)] == [
        ("a", 2, None, 2), ("b", 1, 0, 1), ("Total", 3, 0, 3)]


def test_matrix_crosstab_over_http(live: LiveServer) -> None:
    """The fixture study, roles × themes, excerpts (exact with 'excerpts'): peer practitioner X1, X2 (TH1
    "Working as a peer") and X3 (TH2 "Team culture"); psychiatrist X4 (TH2); mental health nurse X5 (TH1)."""
    with live.client("excerpts") as c:
        r = c.get("/questions/matrix", params={"rows": "role", "columns": "theme", "layout": "crosstab",
                                               "format": "json"})
        assert r.status_code == 200, r.text
        got = {row["row"]: (row["Working as a peer"], row["Team culture"], row["Total"]) for row in r.json()["rows"]}
        assert got == {"peer practitioner": (2, 1, 3), "psychiatrist": (0, 1, 1), "mental health nurse": (1, 0, 1),
                       "Total": (3, 2, 5)}
        sheet = openpyxl.load_workbook(io.BytesIO(c.get("/questions/matrix", params={
            "layout": "crosstab", "format": "xlsx"}).content)).worksheets[0]
        assert sheet.cell(row=1, column=1).value == "row" and sheet.freeze_panes == "A2"
        bad = c.get("/questions/matrix", params={"layout": "pivot"})
        assert bad.status_code == 422
