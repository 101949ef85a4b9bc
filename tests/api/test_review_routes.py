"""Recording judgements, mapping reviews and mapping sets over HTTP (scope 'review'), on a live uvicorn
serving the fixture synthesis (tests/synthesis/conftest.py: fx, rv, frame fxframe, mappings fx.sssom.tsv).

By hand: F1 is unassessed until the test records a CERQual assessment; row 10 of the fixture set (TH2
"Team culture" closeMatch F2) is proposed until reviewed here, after which /synthesis/findings counts TH2's
excerpts X3 and X4 for F2 beside C2's X2 and X5.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import openpyxl
import pytest

from qualkg.api.app import create_app
from qualkg.api.config import ApiConfig, ApiKey
from qualkg.api.routes import synthesis as synthesis_routes
from qualkg.api.security import key_hash
from qualkg.queries.catalog import default_catalog
from qualkg.synthesis.loader import load_synthesis
from tests.conftest import serve
from tests.synthesis.conftest import DATA, IRIS, studies_store
from tests.synthesis.test_synthesis_review import CERQUAL, F2, SET_ID, SKOS_CLOSE, TH2, USER_SET

KEYS = {"read": {"aggregate", "excerpts"}, "review": {"aggregate", "excerpts", "review"}}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    store = studies_store()
    load_synthesis(DATA, store, IRIS)
    keys = [ApiKey(key_sha256=key_hash(f"k-{n}"), name=n, scopes=frozenset(s)) for n, s in KEYS.items()]
    app = create_app(ApiConfig(keys=keys, open_scopes=frozenset(), min_cell_count=2, max_rows=1000,
                               query_timeout_s=5), store, default_catalog())
    app.include_router(synthesis_routes.router)
    server, thread = serve(app)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=10)  # the app's shutdown closes the store


def _client(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer k-{key}"}, timeout=60)


def test_recording_needs_the_review_scope(url: str) -> None:
    with _client(url, "read") as c:
        assert c.post("/synthesis/findings/F1/assessment", json=CERQUAL).status_code == 403
        assert c.post("/synthesis/mappings/review", json={}).status_code == 403
        assert c.post("/synthesis/mapping-sets", content=USER_SET).status_code == 403


def test_bad_assessment_is_refused_with_located_errors(url: str) -> None:
    """A concern of 4 (iSoQ's codes stop at 3) and an unknown confidence: both named, nothing written."""
    bad = {**CERQUAL, "components": {**CERQUAL["components"],
                                     "coherence": {"concern": 4, "explanation": "x"}},
           "overall": {"confidence": "certain", "explanation": "x"}}
    with _client(url, "review") as c:
        r = c.post("/synthesis/findings/F1/assessment", json=bad)
        assert r.status_code == 422
        locs = {tuple(e["loc"][1:]) for e in r.json()["detail"]}
        assert {("cerqual", "components", "coherence", "concern"), ("cerqual", "overall", "confidence")} <= locs
        assert c.post("/synthesis/findings/F9/assessment", json=CERQUAL).status_code == 404
        soqf = c.get("/synthesis/soqf").json()["rows"]
        assert {r["No."]: r["GRADE-CERQual Assessment"] for r in soqf}["F1"] == "not assessed"


def test_a_recorded_cerqual_assessment_appears_in_soqf_and_profile(url: str) -> None:
    with _client(url, "review") as c:
        r = c.post("/synthesis/findings/F1/assessment", json=CERQUAL)
        assert r.status_code == 201, r.text
        soqf = {row["No."]: row for row in c.get("/synthesis/soqf").json()["rows"]}
        assert (soqf["F1"]["GRADE-CERQual Assessment"], soqf["F1"]["Explanation of GRADE-CERQual assessment"]) == (
            "Low confidence", "two components with concerns")
        assert soqf["F2"]["GRADE-CERQual Assessment"] == "not assessed"
        profile = c.get("/synthesis/findings/F1/cerqual").json()["evidence_profile"]
        assert [(k, profile[k]["option"], profile[k]["explanation"]) for k in ("coherence", "adequacy", "cerqual")] == [
            ("coherence", 0, "coherence explained"), ("adequacy", 2, "adequacy explained"),
            ("cerqual", "lc", "two components with concerns")]
        assert profile["cerqual"]["status"].startswith("assessed by Ann Reviewer, ")
        sheet = openpyxl.load_workbook(io.BytesIO(c.get("/synthesis/soqf?format=xlsx").content)).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        assert [row[3] for row in rows[1:]] == ["not assessed", "Low confidence", "not assessed"]  # A1, F1, F2


def test_jbi_credibility_is_recorded_per_study_finding(url: str) -> None:
    money = f"{IRIS.study('rv')}/published-theme/money-worries"
    body = {"method": "jbi", "assessor": "Ann Reviewer",
            "illustrations": [{"study_finding": money, "credibility": "credible", "explanation": "paper read"}]}
    with _client(url, "review") as c:
        wrong = {**body, "illustrations": [{"study_finding": TH2, "credibility": "credible"}]}
        r = c.post("/synthesis/findings/F1/assessment", json=wrong)
        assert r.status_code == 422 and "study-finding" in r.text
        assert c.post("/synthesis/findings/F1/assessment", json=body).status_code == 201
        rows = c.get("/synthesis/jbi?finding=F1").json()["rows"]
        assert sorted({(r["study_finding"], r["credibility"]) for r in rows}) == [
            ("Low pay", "not assessed"), ("Money worries", "credible"), ("pay was low", "not assessed")]


def test_reviewing_a_mapping_makes_it_count(url: str) -> None:
    """Before: F2 has 2 excerpts (X2, X5 via C2) and the notice counts 2 proposed mappings; mappings=all
    shows 4. After reviewing row 10: 4 by default, and 1 proposed left."""
    review = {"mapping_set_id": SET_ID, "subject_id": TH2, "predicate_id": SKOS_CLOSE, "object_id": F2,
              "reviewer": "Third Person"}
    with _client(url, "review") as c:
        def f2(query: str = "") -> tuple[int, list[str]]:
            body = c.get(f"/synthesis/findings{query}").json()
            return next(r["excerpts"] for r in body["rows"] if r["finding"] == "F2"), body["notices"]

        excerpts, notices = f2()
        assert excerpts == 2 and any(n.startswith("2 proposed mapping(s)") for n in notices)
        assert f2("?mappings=all")[0] == 4
        r = c.post("/synthesis/mappings/review", json={**review, "object_id": F2 + "x"})
        assert r.status_code == 422 and "unknown-mapping" in r.text
        assert c.post("/synthesis/mappings/review", json=review).status_code == 201
        excerpts, notices = f2()
        assert excerpts == 4 and any(n.startswith("1 proposed mapping(s)") for n in notices)
        sets = c.get("/synthesis/mapping-sets").json()
        assert [(s["set"], s["reviewed"], s["proposed"]) for s in sets] == [(SET_ID, 8, 1)]


def test_import_a_mapping_set_over_http(url: str) -> None:
    """The user set (one proposed relatedMatch) is added; one whose row has no author is refused, located at
    row 2 (the header is row 1), and nothing is written."""
    with _client(url, "review") as c:
        bad = USER_SET.replace("\tUser\t", "\t\t")
        r = c.post("/synthesis/mapping-sets", content=bad, headers={"Content-Type": "text/tab-separated-values"})
        assert r.status_code == 422
        assert [(p["row"], p["rule"]) for p in r.json()["problems"]] == [(2, "author")]
        assert "https://example.org/user-set" not in {s["set"] for s in c.get("/synthesis/mapping-sets").json()}
        r = c.post("/synthesis/mapping-sets", content=USER_SET, headers={"Content-Type": "text/tab-separated-values"})
        assert r.status_code == 201, r.text
        assert r.json()["mappings"] == 1
        sets = {s["set"]: s["proposed"] for s in c.get("/synthesis/mapping-sets").json()}
        assert sets["https://example.org/user-set"] == 1


def test_a_second_copy_for_mappings_all_waits_then_is_told_to_retry(url: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """mappings=all answers from a copy of the store; while one copy exists (held here) another caller
    waits, then gets 503 with Retry-After rather than a second copy; once released it is answered."""
    monkeypatch.setattr(synthesis_routes, "VIEW_WAIT_S", 0.2)
    assert synthesis_routes._ONE_VIEW.acquire(timeout=5)
    try:
        with _client(url, "review") as c:
            busy = c.get("/synthesis/findings?mappings=all")
    finally:
        synthesis_routes._ONE_VIEW.release()
    assert busy.status_code == 503 and "retry-after" in busy.headers
    with _client(url, "review") as c:
        assert c.get("/synthesis/findings?mappings=all").status_code == 200
