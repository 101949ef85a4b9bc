"""Study ids that name an internal graph ("synthesis", "model", "log") are refused in ingest, by the library,
the CLI and HTTP alike, and the graph they name is left as it was (decision 0036).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pyoxigraph
import pytest
from pyoxigraph import Literal, NamedNode
from typer.testing import CliRunner

from qualkg.api.app import create_app
from qualkg.api.config import ApiConfig
from qualkg.cli import app
from qualkg.ingest.errors import IngestError
from qualkg.ingest.pipeline import ingest
from qualkg.ingest.readers import ReadOptions
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import ONTOLOGY_GRAPH, QKDATA
from qualkg.queries.catalog import default_catalog
from qualkg.store import open_store
from qualkg.store.base import GraphStore
from qualkg.wiring import load_model
from tests.badinputs.make_corpus import PACKAGE, STUDY_YAML, TAGUETTE, zip_bytes
from tests.conftest import LiveServer, one_line, serve

IRIS = IriScheme(str(QKDATA))
CSV = TAGUETTE + "1,doc1,pay,SYNTHETIC: the pay is low.\n"
MARKER = (NamedNode("urn:qualkg-test:review"), NamedNode("urn:qualkg-test:says"), Literal("the synthesis graph"))
# (file name, study id given or None) → the id the ingest would use. `IriScheme.graph("synthesis")` is the
# synthesis graph itself, "model" the model graph's name, "log" the last segment of every log graph.
REFUSED = [("synthesis.csv", None, "synthesis"), ("Synthesis.CSV", None, "synthesis"), ("model.csv", None, "model"),
           ("upload.csv", "synthesis", "synthesis"), ("upload.csv", "model", "model"), ("upload.csv", "log", "log")]


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


@pytest.fixture
def store() -> GraphStore:
    """The model, and a synthesis graph holding one marker triple."""
    s = open_store("oxigraph", path=None)
    load_model(s)
    s.replace_graph(IRIS.synthesis_graph(), [pyoxigraph.Triple(*MARKER)])
    return s


def synthesis_triples(store: GraphStore) -> list[tuple[str, str, str]]:
    rows = store.select_df(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{IRIS.synthesis_graph()}> {{ ?s ?p ?o }} }}", {})
    return [tuple(r) for r in rows.itertuples(index=False)]


def expected_problem(problem: dict[str, object], file: str, study: str) -> bool:
    return (problem["rule"], problem["file"], problem["field"], problem["value"]) == (
        "study-id-reserved", file, "study", study)


# ---------------------------------------------------------------- library


@pytest.mark.parametrize(("name", "given", "study"), REFUSED)
def test_the_library_refuses_and_the_synthesis_graph_stays(tmp_path: Path, store: GraphStore, name: str,
                                                           given: str | None, study: str) -> None:
    before = store.graphs()
    with pytest.raises(IngestError) as err:
        ingest(write(tmp_path, name, CSV), store, IRIS, options=ReadOptions(given))
    assert [expected_problem(p.as_dict(), name, study) for p in err.value.problems] == [True]
    assert store.graphs() == before
    assert synthesis_triples(store) == [tuple(t.value for t in MARKER)]


def test_a_package_whose_id_is_reserved_is_refused_at_its_study_file(tmp_path: Path, store: GraphStore) -> None:
    members = {**PACKAGE, "study.yaml": STUDY_YAML.replace("badinput-study", "synthesis")}
    with pytest.raises(IngestError) as err:
        ingest(write(tmp_path, "package.zip", zip_bytes({k: v.encode() for k, v in members.items()})), store, IRIS)
    assert [(p.rule, p.where.file, p.where.field, p.value) for p in err.value.problems] == [
        ("study-id-reserved", "study.yaml", "id", "synthesis")]
    assert synthesis_triples(store) == [tuple(t.value for t in MARKER)]


def test_ids_that_only_look_alike_are_studies(tmp_path: Path, store: GraphStore) -> None:
    """"synthesis-notes" and "logs" are ordinary ids: their graphs are their own (one input twice: allowed)."""
    for name in ("synthesis-notes.csv", "logs.csv"):
        report = ingest(write(tmp_path, name, CSV), store, IRIS, allow_duplicate=True)
        assert report.written and report.studies[0].graph == IRIS.graph(Path(name).stem)
    assert synthesis_triples(store) == [tuple(t.value for t in MARKER)]


# ---------------------------------------------------------------- CLI


def graphs_in(path: Path) -> list[str]:
    if not path.exists():
        return []
    return sorted(g.value for g in pyoxigraph.Store.read_only(str(path)).named_graphs() if g.value != ONTOLOGY_GRAPH)


@pytest.mark.parametrize(("name", "given", "study"), [REFUSED[0], REFUSED[3], REFUSED[4]])
def test_the_cli_refuses_with_the_located_problem(tmp_path: Path, name: str, given: str | None, study: str) -> None:
    path, report, store_path = write(tmp_path, name, CSV), tmp_path / "report.json", tmp_path / "store"
    args = ["ingest", str(path), "--report", str(report), *(["--study", given] if given else [])]
    result = CliRunner().invoke(app, args, env={"QUALKG_STORE_PATH": str(store_path)})
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a handled refusal, not a crash
    assert "Traceback" not in result.output and "study-id-reserved" in one_line(result.output)
    answer = json.loads(report.read_text())
    assert answer["written"] is False
    assert [expected_problem(p, name, study) for p in answer["problems"]] == [True]
    assert graphs_in(store_path) == []


# ---------------------------------------------------------------- HTTP (the live server of tests/conftest.py)


def studies_listed(live: LiveServer) -> object:
    with live.client("aggregate") as c:
        r = c.get("/studies")
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize(("name", "given", "study"), REFUSED)
def test_an_upload_with_a_reserved_id_is_refused_with_422(live: LiveServer, name: str, given: str | None,
                                                          study: str) -> None:
    before = studies_listed(live)
    with live.client("ingest") as c:
        r = c.post("/studies", files={"file": (name, CSV.encode())}, data={"study": given} if given else {})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["written"] is False
    assert [expected_problem(p, name, study) for p in body["problems"]] == [True]
    assert studies_listed(live) == before


def test_the_same_upload_with_a_free_id_is_accepted(live: LiveServer) -> None:
    """The refusal is the id's: the same file under another id passes (a dry run, so nothing is written)."""
    with live.client("ingest") as c:
        r = c.post("/studies", files={"file": ("synthesis.csv", CSV.encode())},
                   data={"study": "synthesis-review-notes", "dry_run": "true"})
    assert r.status_code == 200, r.text
    assert r.json()["studies"][0]["graph"] == IRIS.graph("synthesis-review-notes")



# ---------------------------------------------------------------- reading routes


@pytest.mark.parametrize("name", ["synthesis", "model", "log"])
def test_reading_routes_do_not_serve_internal_graphs_as_studies(store: GraphStore, name: str) -> None:
    """The synthesis graph is in the store (the fixture's marker triple), yet it is no study."""
    config = ApiConfig(keys=[], open_scopes=frozenset({"aggregate", "excerpts"}))
    server, thread = serve(create_app(config, store, default_catalog()))
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.config.port}", timeout=30) as client:
            answer = client.get(f"/studies/{name}")
            assert answer.status_code == 404, answer.text
            assert name in answer.json()["detail"]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_cli_exports_no_internal_graph_as_a_study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store_path = tmp_path / "store"
    monkeypatch.setenv("QUALKG_STORE_PATH", str(store_path))
    monkeypatch.chdir(tmp_path)
    s = open_store("oxigraph", path=store_path)
    s.replace_graph(IRIS.synthesis_graph(), [pyoxigraph.Triple(*MARKER)])
    s.close()
    r = CliRunner().invoke(app, ["export", "synthesis"])
    assert r.exit_code == 1
    assert "the synthesis graph" not in r.output and "no study 'synthesis'" in one_line(r.output)
