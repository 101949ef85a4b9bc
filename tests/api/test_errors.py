"""Domain errors become HTTP answers through the app factory's exception handlers, in the shapes
docs/api.md gives: a refused parameter as FastAPI's own 422, refused input with its located problems."""

from __future__ import annotations

import io

import pytest

from tests.conftest import LiveServer


@pytest.mark.parametrize(("path", "param", "rule"), [
    ("/questions/challenges-by-context?role=astronaut", "role", "vocabulary"),
    ("/questions/studies?format=pdf", "format", "enum"),
    ("/questions/studies?engine=mongo", "engine", "enum"),
    ("/synthesis/suggestions?a=f%20x&b=rv", "study", "study-id"),
])
def test_a_refused_parameter_is_422_naming_it(live: LiveServer, path: str, param: str, rule: str) -> None:
    with live.client("all") as c:
        r = c.get(path)
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert error["loc"] == ["query", param] and error["type"] == rule and error["input"] and error["msg"]


@pytest.mark.parametrize(("path", "param", "rule", "input_", "says"), [
    ("/questions/challenges-by-context?topic=", "topic", "empty", "", "leave it out for its default (challenge)"),
    ("/excerpts?role=", "role", "empty", "", "one of: "),
    ("/questions/matrix?rows=attribute&attribute=age", "attribute", "unknown", "age",
     "no such attribute in the data; none"),  # the fixture's participants have no attributes
    ("/questions/teams?study=nope", "study", "unknown", "nope", "no such study; one of: fx"),
    ("/participants?study=", "study", "empty", "", "leave it out for no filter, or give one of: fx"),
])
def test_empty_or_unknown_values_are_422_with_the_values_allowed(live: LiveServer, path: str, param: str, rule: str,
                                                                  input_: str, says: str) -> None:
    with live.client("all") as c:
        r = c.get(path)
    assert r.status_code == 422, r.text
    [error] = r.json()["detail"]
    assert (error["loc"], error["type"], error["input"]) == (["query", param], rule, input_)
    assert says in error["msg"]


def test_an_unknown_study_overview_is_404(live: LiveServer) -> None:
    with live.client("all") as c:
        assert c.get("/studies/nope").status_code == 404
        assert c.get("/studies/fx").status_code == 200


def test_refused_input_is_422_with_located_problems(live: LiveServer) -> None:
    bad = b"id,document,label,content\n1,doc,x,SYNTHETIC text\n"  # no code column
    with live.client("ingest") as c:
        r = c.post("/studies", files={"file": ("bad.csv", io.BytesIO(bad), "text/csv")}, data={"dry_run": "true"})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["written"] is False and body["problems"][0]["file"] == "bad.csv"  # its own name, no server path
    assert {"row", "field", "value", "rule", "message"} <= set(body["problems"][0])
