"""`qualkg sync neo4j` (qualkg/cli_projection.py) against a real Oxigraph directory and the real Neo4j."""

from __future__ import annotations

from pathlib import Path

import pytest
from neo4j import Driver
from typer.testing import CliRunner

from qualkg.cli_projection import sync_app
from qualkg.ingest.mapping import map_study
from qualkg.store import open_store
from tests.conftest import one_line
from tests.fixture_study import fixture_records
from tests.projection.conftest import IRIS
from tests.servers.launch import Neo4jServer

pytestmark = pytest.mark.servers


@pytest.fixture
def store_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An Oxigraph directory holding the fixture study; settings read from the environment only."""
    path = tmp_path / "store"
    store = open_store("oxigraph", path=path)
    store.replace_graph(IRIS.graph("fx"), map_study(fixture_records(), IRIS))
    store.close()
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("QUALKG_STORE_PATH", str(path))
    return path


def test_sync_neo4j_writes_the_study(store_dir: Path, neo4j: Neo4jServer, driver: Driver,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUALKG_NEO4J_URI", neo4j.bolt_uri)
    result = CliRunner().invoke(sync_app, ["neo4j", "--study", "fx"])
    assert result.exit_code == 0, result.output
    assert "synced 1 graph(s)" in one_line(result.output)
    assert driver.execute_query("MATCH (x:Excerpt) RETURN count(x) AS n").records[0]["n"] == 5


def test_sync_neo4j_without_uri_says_what_to_set(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUALKG_NEO4J_URI", raising=False)
    result = CliRunner().invoke(sync_app, ["neo4j"])
    assert result.exit_code == 1
    assert "QUALKG_NEO4J_URI" in one_line(result.output)


def test_sync_neo4j_unknown_study_fails_cleanly(store_dir: Path, neo4j: Neo4jServer, driver: Driver,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUALKG_NEO4J_URI", neo4j.bolt_uri)
    result = CliRunner().invoke(sync_app, ["neo4j", "--study", "nope"])
    assert result.exit_code == 1
    assert "not in the store" in one_line(result.output)
    assert driver.execute_query("MATCH (n) RETURN count(n) AS n").records[0]["n"] == 0
