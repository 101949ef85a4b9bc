"""The disclosure rule on hand-made tables (api/disclosure.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from qualkg.api.disclosure import disclose
from qualkg.queries.catalog import Column, Question
from tests.conftest import LiveServer

Q = Question(id="q", title="t", description="d", sparql="",
             columns=[Column(name="label"), Column(name="n", count="excerpt"), Column(name="text", text=True)])


def test_primary_and_secondary_suppression() -> None:
    """k = 3: the lone 1 is suppressed, and so is the next-smallest non-zero cell (4), so 10 − (5 + 0) won't
    reveal it; 0 is kept (an empty cell discloses nobody); text is dropped."""
    df = pd.DataFrame({"label": list("abcd"), "n": [1, 4, 5, 0], "text": ["w", "x", "y", "z"]})
    out = disclose(df, Q, may_read_excerpts=False, k=3)
    assert list(out.frame["n"]) == [None, None, 5, 0]
    assert out.suppressed == 2 and "text" not in out.frame.columns


def test_no_secondary_when_two_cells_are_already_suppressed() -> None:
    df = pd.DataFrame({"label": list("abc"), "n": [1, 2, 9], "text": ["", "", ""]})
    assert list(disclose(df, Q, may_read_excerpts=False, k=3).frame["n"]) == [None, None, 9]


def test_everything_shown_with_the_excerpts_scope() -> None:
    df = pd.DataFrame({"label": ["a"], "n": [1], "text": ["x"]})
    out = disclose(df, Q, may_read_excerpts=True, k=3)
    assert out.frame.equals(df) and out.suppressed == 0


M = Question(id="m", title="t", description="d", sparql="",
             columns=[Column(name="row"), Column(name="column"), Column(name="n", count="excerpt")])


def test_secondary_suppression_per_group_of_a_matrix() -> None:
    """k = 3. Theme A: peer 4, nurse 1 (hidden) → A's other cell, peer 4, is hidden too, so A's total
    (5, published by another question) minus the visible cells gives 1 + 4, not 1. Theme B: 6 and 7,
    nothing small. The peer row then holds one hidden cell (A) → its smallest other cell (B, 6) hides
    too, which leaves theme B with one hidden cell → B's nurse 7 hides as well."""
    df = pd.DataFrame({"row": ["peer", "nurse", "peer", "nurse"], "column": ["A", "A", "B", "B"], "n": [4, 1, 6, 7]})
    out = disclose(df, M, may_read_excerpts=False, k=3)
    assert list(out.frame["n"]) == [None, None, None, None]
    assert out.suppressed == 4


def test_rows_are_groups_too() -> None:
    """Column A holds two hidden cells (1, 2): enough for A. But row "peer" then has one hidden cell
    beside 6, and a peer total published elsewhere minus 6 would give 1 → 6 hides; likewise 9."""
    df = pd.DataFrame({"row": ["peer", "nurse", "peer", "nurse"], "column": ["A", "A", "B", "B"], "n": [1, 2, 6, 9]})
    assert list(disclose(df, M, may_read_excerpts=False, k=3).frame["n"]) == [None, None, None, None]


def test_groups_with_two_hidden_cells_need_nothing_more() -> None:
    """Rows a/b each hold two hidden cells, and so does each column: nothing else hides."""
    df = pd.DataFrame({"row": ["a", "a", "b", "b", "c"], "column": ["A", "B", "A", "B", "C"], "n": [1, 2, 2, 1, 8]})
    out = disclose(df, M, may_read_excerpts=False, k=3)
    assert list(out.frame["n"]) == [None, None, None, None, 8]


# -- listings with a row per person or excerpt (decision 0070) ------------------------------------------

ROW_PER_PERSON = ["/participants", "/questions/participants", "/excerpts", "/questions/excerpts"]


@pytest.mark.parametrize("path", ROW_PER_PERSON)
def test_row_per_person_listings_need_the_excerpts_scope(live: LiveServer, path: str) -> None:
    """Counting the rows of a listing with one row per participant (with role and team) or per excerpt
    gives back every count disclosure control hides: such listings need 'excerpts'."""
    with live.client("aggregate") as c:
        refused = c.get(path)
    with live.client("excerpts") as c:
        shown = c.get(path)
    assert refused.status_code == 403 and "excerpts" in refused.json()["detail"]
    assert shown.status_code == 200 and shown.json()["rows"]


def test_jbi_without_excerpts_is_the_outline(live: LiveServer) -> None:
    with live.client("aggregate") as c:
        body = c.get("/synthesis/jbi").json()
    assert body["question"] == "jbi-outline" and not {"illustration", "speaker"} & set(body["columns"])


def test_questions_list_no_hidden_column(live: LiveServer) -> None:
    with live.client("aggregate") as c:
        listed = {q["id"]: q["columns"] for q in c.get("/questions").json()}
    counts = {c["name"]: c["count"] for c in listed["cooccurrence"] if "count" in c}
    assert counts == {"n12": "pair", "n1": "excerpt", "n2": "excerpt"}
    assert all(not c.get("hidden") and "records" not in c for cols in listed.values() for c in cols)


# -- derived statistics (decision 0070) -------------------------------------------------------------------

CO = Question(id="co", title="t", description="d", sparql="", columns=[
    Column(name="code1"), Column(name="code2"), Column(name="n12", count="pair"), Column(name="n1", count="excerpt"),
    Column(name="n2", count="excerpt"),
    Column(name="c", derived={"formula": "c-coefficient", "of": ["n12", "n1", "n2"]})])


def test_the_c_coefficient_is_hidden_whenever_an_input_is() -> None:
    """k = 3. Row a: n12 = 1 hidden, n1 = n2 = 5 shown; c = 1/9 would give n12 = c(n1 + n2)/(1 + c) = 1, so c
    hides. Row b: n1 = 2 hidden; c = 3/(2 + 4 − 3) would give n1. Any row: c is computed from the published
    counts, or hidden."""
    df = pd.DataFrame({"code1": ["A", "A", "B"], "code2": ["B", "C", "C"], "n12": [1, 3, 4], "n1": [5, 2, 6],
                       "n2": [5, 4, 8], "c": [0.111, 1.0, 0.4]})
    out = disclose(df, CO, may_read_excerpts=False, k=3).frame
    assert list(out["c"])[:2] == [None, None]
    for r in out.itertuples():
        shown = None not in (r.n12, r.n1, r.n2)
        assert r.c == (round(r.n12 / (r.n1 + r.n2 - r.n12), 3) if shown else None)


def test_cooccurrence_hides_c_with_its_counts(live: LiveServer) -> None:
    """The fixture's two pairs have n12 = 1 < k = 2 (hidden): both c-coefficients hide too."""
    with live.client("aggregate") as c:
        rows = c.get("/questions/cooccurrence").json()["rows"]
    with live.client("excerpts") as c:
        exact = c.get("/questions/cooccurrence").json()["rows"]
    assert [r["c"] for r in exact] == [0.333, 0.333]
    assert rows and all(r["n12"] is None and r["c"] is None for r in rows)
