"""The explorer's two routers over a real uvicorn: the static page and files (/, /explorer/…) and the
vocabularies (/vocab/{name}) that its dropdowns list. Expected concepts are read off
ontology/vocab/{roles,features,modes}.ttl by hand: 17 roles, 11 features, 8 current modes (the deprecated
semi-structured-interview is not listed)."""

from __future__ import annotations

import httpx
import pytest

from qualkg.queries.catalog import default_catalog


def test_root_serves_the_page_with_a_same_origin_policy(explorer_url: str) -> None:
    r = httpx.get(f"{explorer_url}/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/explorer/js/main.js">' in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]


@pytest.mark.parametrize("path, media", [("js/main.js", "text/javascript"), ("style.css", "text/css"),
                                         ("js/pages/matrix.js", "text/javascript")])
def test_static_files_are_served_with_their_type(explorer_url: str, path: str, media: str) -> None:
    r = httpx.get(f"{explorer_url}/explorer/{path}")
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)


@pytest.mark.parametrize("path", ["%2e%2e/%2e%2e/pyproject.toml", "..%2f..%2fapi%2fapp.py", "js/missing.js",
                                  "%2fetc%2fpasswd", ""])
def test_nothing_outside_the_static_folder_is_served(explorer_url: str, path: str) -> None:
    assert httpx.get(f"{explorer_url}/explorer/{path}").status_code == 404


@pytest.mark.parametrize("name, n, sample, label, broader", [
    ("role", 17, "psychiatrist", "psychiatrist", "non-peer-practitioner"),
    ("feature", 11, "flattened-hierarchy", "flattened hierarchy", None),
    ("mode", 8, "focus-group", "focus group", None),
    ("mode", 8, "joint-interview", "joint interview", "interview"),
])
def test_vocabulary_lists_its_concepts_without_a_key(explorer_url: str, name: str, n: int, sample: str, label: str,
                                                      broader: str | None) -> None:
    r = httpx.get(f"{explorer_url}/vocab/{name}")  # anonymous, no scopes: vocabularies hold no study data
    assert r.status_code == 200
    concepts = {c["id"]: c for c in r.json()}
    assert len(concepts) == n
    assert (concepts[sample]["label"], concepts[sample]["broader"]) == (label, broader)


@pytest.mark.parametrize("name", ["role", "feature", "mode"])
def test_every_listed_concept_is_accepted_as_a_parameter(explorer_url: str, name: str) -> None:
    catalog = default_catalog()
    param = {"role": ("participants", "role"), "feature": ("teams", "feature"), "mode": ("excerpts", "mode")}[name]
    for concept in httpx.get(f"{explorer_url}/vocab/{name}").json():
        assert param[1] in catalog.bind(param[0], {param[1]: concept["id"]})


def test_a_deprecated_concept_is_not_offered(explorer_url: str) -> None:
    """modes.ttl marks mode:semi-structured-interview owl:deprecated (replaced by an individual interview
    with a semi-structured structure); a dropdown must not offer it."""
    ids = {c["id"] for c in httpx.get(f"{explorer_url}/vocab/mode").json()}
    assert "semi-structured-interview" not in ids and "individual-interview" in ids


def test_unknown_vocabulary_names_the_known_ones(explorer_url: str) -> None:
    r = httpx.get(f"{explorer_url}/vocab/colours")
    assert r.status_code == 404 and "feature, mode, role" in r.json()["detail"]
