"""Every endpoint × every scope (and no key, a revoked key, an expired key) on a live uvicorn.

The live server (tests/conftest.py) gives anonymous callers no scope, as off loopback, and
suppresses counts below 2 for callers without `excerpts`.
"""

from __future__ import annotations

import io

import pytest

from tests.conftest import LiveServer
from tests.fixture_study import TR1

UPLOAD_CSV = (b"id,document,tag,content\n1,doc1,pay.low,SYNTHETIC: upload test text\n")

# endpoint → the scope it needs (None = open)
ENDPOINTS: dict[str, str | None] = {
    "GET /health": None,
    "GET /questions": "aggregate",
    "GET /questions/challenges-by-context": "aggregate",
    "GET /questions/matrix?rows=team&columns=code": "aggregate",
    "GET /studies": "aggregate",
    "GET /studies/fx": "aggregate",
    "GET /participants": "excerpts",  # one row per person: counting rows would undo disclosure control
    "GET /teams": "aggregate",
    "GET /themes": "aggregate",
    "GET /codes": "aggregate",
    "GET /excerpts": "excerpts",
    "GET /questions/excerpts": "excerpts",
    "GET /export/fx?format=ttl": "excerpts",
    "GET /sparql?query=ASK%20%7B%3Fs%20%3Fp%20%3Fo%7D": "sparql",
    "POST /studies": "ingest",
}
CALLERS = {"anonymous": frozenset(), "aggregate": {"aggregate"}, "excerpts": {"aggregate", "excerpts"},
           "sparql": {"sparql"}, "ingest": {"ingest"}, "all": {"aggregate", "excerpts", "sparql", "ingest"},
           "revoked": None, "expired": None}


def call(live: LiveServer, caller: str, endpoint: str):
    method, path = endpoint.split(" ", 1)
    with live.client(None if caller == "anonymous" else caller) as c:
        if method == "POST":
            return c.post(path, files={"file": ("t.csv", io.BytesIO(UPLOAD_CSV), "text/csv")},
                          data={"dry_run": "true", "study": "upload-test"})
        return c.get(path)


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_scope_matrix(live: LiveServer, caller: str, endpoint: str) -> None:
    needed, scopes = ENDPOINTS[endpoint], CALLERS[caller]
    r = call(live, caller, endpoint)
    if needed is None:
        assert r.status_code == 200
    elif scopes is None:  # revoked or expired key
        assert r.status_code == 401, r.text
    elif needed in scopes:
        assert r.status_code in (200, 201), r.text
    else:
        assert r.status_code == (401 if caller == "anonymous" else 403), r.text
    assert r.status_code != 500


@pytest.mark.parametrize("caller", ["aggregate", "sparql", "ingest", "anonymous"])
def test_no_excerpt_text_without_the_excerpts_scope(live: LiveServer, caller: str) -> None:
    for endpoint in ("GET /excerpts", "GET /questions/excerpts", "GET /questions/challenges-by-context"):
        body = call(live, caller, endpoint).text
        assert "SYNTHETIC: The pay is low." not in body and "The hierarchy came back" not in body


def test_excerpt_text_with_the_excerpts_scope(live: LiveServer) -> None:
    r = call(live, "excerpts", "GET /excerpts")
    data = r.json()
    assert "text" in data["columns"]
    assert {row["text"] for row in data["rows"]} >= {"SYNTHETIC: The pay is low."}
    assert any("SYNTHETIC" in n for n in data["notices"])  # synthetic excerpts are announced


def test_per_person_listing_needs_the_excerpts_scope(live: LiveServer) -> None:
    """Participants' excerpt counts are P1 2, P2 1, N1 1, N2 1 (tests/fixture_study.py); an aggregate-only
    caller may not list persons at all, since counting the rows by role undoes any protection of the
    role counts."""
    assert call(live, "aggregate", "GET /participants").status_code == 403
    full = {r["pseudonym"]: r["excerpts"] for r in call(live, "excerpts", "GET /participants").json()["rows"]}
    assert full == {"P1": 2, "P2": 1, "N1": 1, "N2": 1}


def test_secondary_suppression_protects_a_lone_small_cell(live: LiveServer) -> None:
    """/themes?level=all gives excerpt counts 3 (Working as a peer), 2 (Team culture) and 3 (Challenges):
    none below 2, nothing suppressed. /codes gives 2, 2, 2: nothing suppressed either. Matrix team × code
    has only 1s, all suppressed. The rule's lone-cell case is covered in tests/api/test_disclosure.py."""
    cells = call(live, "aggregate", "GET /questions/matrix?rows=team&columns=code").json()
    assert cells["rows"] and all(r["excerpts"] is None for r in cells["rows"])
    assert cells["suppressed"] >= len(cells["rows"])


def test_export_has_the_transcript_text(live: LiveServer) -> None:
    r = call(live, "excerpts", "GET /export/fx?format=ttl")
    assert r.headers["content-type"].startswith("text/turtle")
    assert TR1 in r.text


def test_delete_and_edit_refuse_without_the_scope_an_unknown_id_and_a_bad_edit(live: LiveServer) -> None:
    """The live store is shared, so only refusals here; a delete and an edit that succeed run against a
    served store of their own in tests/cli/test_clients.py."""
    with live.client() as anonymous:
        assert anonymous.delete("/studies/fx").status_code == 401
    with live.client("aggregate") as reader:
        assert reader.patch("/studies/fx", json={"title": "x"}).status_code == 403
    with live.client("ingest") as writer:
        assert writer.delete("/studies/model").status_code == 404  # a reserved id names no study
        assert writer.delete("/studies/no-such-study").status_code == 404
        assert writer.patch("/studies/no-such-study", json={"title": "x"}).status_code == 404
        unknown = writer.patch("/studies/fx", json={"colour": "red"})
        assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "colour"]
        assert writer.patch("/studies/fx", json={"title": None}).status_code == 422
        assert writer.patch("/studies/fx", json={}).status_code == 422
