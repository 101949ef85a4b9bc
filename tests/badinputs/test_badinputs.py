"""Every file of the bad-input corpus through `qualkg ingest` and through the live HTTP upload.

Each is refused with the manifest's rule and location, writing nothing: the CLI exits 1 and its
--report JSON holds the problem; the upload gets the manifest's status, never 500, and no server path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph
import pytest
import yaml
from typer.testing import CliRunner

from qualkg.cli import app
from tests.badinputs.conftest import INGEST_KEY, MODEL_ONLY, Hostile
from tests.badinputs.make_corpus import FILES, MANIFEST, build_all
from tests.conftest import one_line

CORPUS: dict[str, dict[str, Any]] = yaml.safe_load(MANIFEST.read_text())
LOCATION = ("file", "element", "row", "field")


def matches(problem: dict[str, Any], expected: dict[str, Any]) -> bool:
    return problem["rule"] == expected["rule"] and all(problem[k] == expected[k] for k in LOCATION if k in expected)


def test_corpus_is_large_and_reproducible() -> None:
    """The committed files are exactly what make_corpus.py builds, one per manifest entry."""
    built = build_all()
    assert len(built) >= 50
    assert sorted(p.name for p in FILES.iterdir()) == sorted(built) == sorted(CORPUS)
    changed = [name for name, data in built.items() if (FILES / name).read_bytes() != data]
    assert changed == []


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli") / "store"


def study_graphs(path: Path) -> list[str]:
    """Named graphs other than the model, read through a read-only handle (cheap to open); none before the
    store exists."""
    if not path.exists():
        return []
    return sorted(g.value for g in pyoxigraph.Store.read_only(str(path)).named_graphs() if g.value not in MODEL_ONLY)


@pytest.mark.parametrize("name", list(CORPUS))
def test_cli_refuses(name: str, cli_store: Path, tmp_path: Path) -> None:
    expected = CORPUS[name]
    report = tmp_path / "report.json"
    args = ["ingest", str(FILES / name), "--report", str(report), "--preset", expected.get("preset", "auto")]
    before = study_graphs(cli_store)  # the store is shared by the cases: each judges only what it did
    result = CliRunner().invoke(app, args, env={"QUALKG_STORE_PATH": str(cli_store)})
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # a handled refusal, not a crash
    assert "Traceback" not in result.output and "Not ingested" in one_line(result.output)
    answer = json.loads(report.read_text())
    assert answer["written"] is False
    assert any(matches(p, expected) for p in answer["problems"]), answer["problems"]
    assert study_graphs(cli_store) == before


@pytest.mark.servers
@pytest.mark.parametrize("name", list(CORPUS))
def test_http_refuses(name: str, hostile: Hostile) -> None:
    expected = CORPUS[name]
    before = hostile.store.graphs()
    with httpx.Client(base_url=hostile.url, headers={"Authorization": f"Bearer {INGEST_KEY}"}, timeout=60) as c:
        r = c.post("/studies", files={"file": (name, (FILES / name).read_bytes())},
                   data={"preset": expected.get("preset", "auto")})
    assert r.status_code == expected.get("http", 422), r.text
    assert "qualkg-upload-" not in r.text  # no server-side temporary path in the answer
    if r.status_code == 422:
        body = r.json()
        assert body["written"] is False
        assert any(matches(p, expected) for p in body["problems"]), body["problems"]
    assert hostile.store.graphs() == before
