"""The `qualkg` command, through typer's CliRunner, on a store in a temporary directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph
from typer.testing import CliRunner

from qualkg.cli import app
from qualkg.invocation import WIDTH

MINIMAL = Path(__file__).parents[1] / "ingest" / "data" / "package" / "minimal"
SEED = Path(__file__).parents[2] / "data" / "seed-anestis-2025"
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    store = tmp_path / "store"
    monkeypatch.setenv("QUALKG_STORE_PATH", str(store))
    monkeypatch.chdir(tmp_path)  # no stray .env from the checkout
    return store


def test_ingest_then_list_and_export(env: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    r = runner.invoke(app, ["ingest", str(MINIMAL), "--report", str(report)])
    assert r.exit_code == 0, r.output
    data = json.loads(report.read_text())
    assert data["written"] is True and data["studies"][0]["study"] == "fixture-study"
    assert data["studies"][0]["excerpts"] == 5  # the five rows of excerpts.csv
    listed = runner.invoke(app, ["studies"])
    assert "Fixture study" in listed.output
    out = tmp_path / "fx.ttl"
    r = runner.invoke(app, ["export", "fixture-study", "--format", "ttl", "--out", str(out)])
    assert r.exit_code == 0
    assert len(Graph().parse(out, format="turtle")) == data["studies"][0]["triples"]


def test_validate_writes_nothing(env: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    r = runner.invoke(app, ["validate", str(MINIMAL), "--report", str(report)])
    assert r.exit_code == 0, r.output
    assert json.loads(report.read_text())["written"] is False
    assert not env.exists()


def test_bad_input_exit_code_and_located_report(env: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,document,label,content\n1,doc,x,SYNTHETIC text\n")
    report = tmp_path / "problems.json"
    r = runner.invoke(app, ["ingest", str(bad), "--report", str(report)])
    assert r.exit_code == 1
    problems = json.loads(report.read_text())["problems"]
    assert problems[0]["file"].endswith("bad.csv") and problems[0]["rule"]
    listed = runner.invoke(app, ["studies"])
    assert "bad" not in listed.output.lower().replace("bad.csv", "")


def test_export_unknown_study(env: Path) -> None:
    r = runner.invoke(app, ["export", "no-such-study"])
    assert r.exit_code == 1 and "no study" in r.output


def test_reindex_rebuilds_the_projection_from_the_graph(env: Path) -> None:
    """A removed projection file comes back from the graph, with one row per seed excerpt (excerpts.csv
    has 45 data rows, counted by hand)."""
    assert runner.invoke(app, ["ingest", str(SEED)]).exit_code == 0
    duck = env.with_name(env.name + ".duckdb")
    duck.unlink()
    r = runner.invoke(app, ["reindex"])
    assert r.exit_code == 0 and "rebuilt from" in r.output and duck.stat().st_size > 0
    import duckdb

    with duckdb.connect(str(duck), read_only=True) as db:
        assert db.execute("SELECT count(*) FROM excerpt").fetchall() == [(45,)]


def test_seed_study_overview_equals_the_published_design(env: Path) -> None:
    """Abstract: 9 peer practitioners (semi-structured and joint interviews); 18 non-peer practitioners
    from 11 interviews and 4 focus groups; three themes."""
    assert runner.invoke(app, ["ingest", str(SEED)]).exit_code == 0
    import qualkg

    with qualkg.connect(env) as kg:
        df = kg.ask("study-overview", study="anestis-2025")
        roles = kg.ask("participants", study="anestis-2025")
    n = {(r.section, r.item): r.n for r in df.itertuples()}
    assert n[("participants by role", "peer practitioner")] == 9
    assert sum(v for (s, item), v in n.items() if s == "participants by role" and item != "peer practitioner") == 18
    # events.csv by hand: 5 peer + 11 non-peer individual interviews, 2 joint interviews, 4 focus groups
    assert n[("events by type", "individual interview")] == 16 and n[("events by type", "focus group")] == 4
    assert n[("events by type", "joint interview")] == 2
    assert sum(1 for (s, _), _v in n.items() if s == "themes") == 3
    assert len(roles) == 27


def test_settings_are_read_once_per_command_line(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The main callback reads them; the command and the helpers it calls are handed the same object."""
    from qualkg.settings import Settings

    made: list[Settings] = []
    read = Settings.__init__

    def counted(self: Settings, **values: object) -> None:
        read(self, **values)
        made.append(self)

    monkeypatch.setattr(Settings, "__init__", counted)
    assert runner.invoke(app, ["ingest", str(MINIMAL)]).exit_code == 0
    assert len(made) == 1


def test_messages_and_tables_do_not_depend_on_the_terminal_width(env: Path) -> None:
    """A message longer than any terminal stays on one line; tables off a terminal take a fixed width,
    whatever COLUMNS says."""
    study = "s" * 150
    r = runner.invoke(app, ["export", study], env={"COLUMNS": "40"})
    assert r.exit_code == 1 and f"no study '{study}' in the store" in r.output
    assert runner.invoke(app, ["ingest", str(MINIMAL)]).exit_code == 0
    listed = runner.invoke(app, ["studies"], env={"COLUMNS": "20"})
    assert "Fixture study" in listed.output
    assert 20 < max(len(line) for line in listed.output.splitlines()) <= WIDTH


def test_studies_lists_ids_whole_and_as_json(env: Path) -> None:
    assert runner.invoke(app, ["ingest", str(MINIMAL)]).exit_code == 0
    listed = runner.invoke(app, ["studies", "--json"])
    assert listed.exit_code == 0, listed.output
    [study] = json.loads(listed.output)
    # tests/ingest/data/package/minimal: study.yaml's id and title, participants.csv's two rows,
    # one event in events.csv, the five rows of excerpts.csv
    assert study == {"id": "fixture-study", "title": "Fixture study (SYNTHETIC)", "doi": "10.0000/fixture.1",
                     "participants": 2, "events": 1, "excerpts": 5}
    table = runner.invoke(app, ["studies"])
    assert "fixture-study" in table.output  # the whole id, not cut


def test_piped_ingest_prints_no_progress_lines(env: Path) -> None:
    r = runner.invoke(app, ["load-bundled", "--data", str(MINIMAL.parent)])
    assert r.exit_code == 0, r.output
    assert not [line for line in r.output.splitlines() if not line.strip()]  # no blank progress frames
    assert "loading bundled studies" not in r.output


def test_load_bundled_loads_only_changed_packages_and_keeps_the_users(env: Path, tmp_path: Path) -> None:
    import shutil

    bundled = tmp_path / "bundled"
    shutil.copytree(MINIMAL, bundled / "minimal")
    user = runner.invoke(app, ["ingest", str(SEED)])  # a study the user added, not in the bundled folder
    assert user.exit_code == 0, user.output
    first = runner.invoke(app, ["load-bundled", "--data", str(bundled)])
    assert first.exit_code == 0 and "0 of 1 bundled package(s) unchanged" in first.output
    second = runner.invoke(app, ["load-bundled", "--data", str(bundled)])
    assert second.exit_code == 0 and "1 of 1 bundled package(s) unchanged" in second.output
    assert "Ingested" not in second.output
    ids = sorted(s["id"] for s in json.loads(runner.invoke(app, ["studies", "--json"]).stdout))
    assert ids == ["anestis-2025", "fixture-study"]  # the user's study stays beside the bundled one


def test_edit_and_delete_a_study_without_a_server(env: Path) -> None:
    assert runner.invoke(app, ["ingest", str(MINIMAL)]).exit_code == 0
    edited = runner.invoke(app, ["edit", "fixture-study", "--title", "Renamed", "--setting", "Two wards"])
    assert edited.exit_code == 0, edited.output
    [row] = json.loads(runner.invoke(app, ["studies", "--json"]).stdout)
    assert (row["id"], row["title"]) == ("fixture-study", "Renamed")
    assert runner.invoke(app, ["edit", "fixture-study", "--remove", "title"]).exit_code == 2  # keeps its title
    assert runner.invoke(app, ["edit", "no-such-study", "--title", "x"]).exit_code == 1
    assert runner.invoke(app, ["delete", "model"]).exit_code == 1  # a reserved id names no study
    deleted = runner.invoke(app, ["delete", "fixture-study"])
    assert deleted.exit_code == 0 and "2 graph(s)" in deleted.output  # the study graph and its log graph
    assert json.loads(runner.invoke(app, ["studies", "--json"]).stdout) == []
