"""The synthesis CLI as the lead will mount it, on a store directory holding fx and rv (conftest)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
import rispy
import typer
from typer.testing import CliRunner

from qualkg.cli_synthesis import feeds_app, mappings_app, suggest_cmd
from qualkg.ingest.mapping import map_study
from qualkg.ontology.namespaces import QKDATA
from qualkg.store import open_store
from qualkg.synthesis.loader import synthesis_graph
from tests.synthesis.conftest import DATA, IRIS, fx_records, rv_records
from tests.synthesis.test_synthesis_review import CERQUAL, F2, SET_ID, SKOS_CLOSE, TH2

app = typer.Typer()
app.add_typer(mappings_app, name="mappings")
app.add_typer(feeds_app, name="feeds")
app.command("suggest")(suggest_cmd)


@pytest.fixture()
def store_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "store"
    store = open_store("oxigraph", path=path)
    store.replace_graph(IRIS.graph("fx"), map_study(fx_records(), IRIS))
    store.replace_graph(IRIS.graph("rv"), map_study(rv_records(), IRIS))
    store.close()
    monkeypatch.setenv("QUALKG_STORE_PATH", str(path))
    monkeypatch.setenv("QUALKG_BASE_IRI", str(QKDATA))
    return path


def test_import_then_feeds(store_dir: Path, tmp_path: Path) -> None:
    """import writes the synthesis graph (9 mappings: rows 2-8 reviewed, 9 and 10 proposed; 3 minted); RIS back."""
    runner = CliRunner()
    dry = runner.invoke(app, ["mappings", "import", "--dir", str(DATA), "--dry-run"])
    assert dry.exit_code == 0 and "checked" in dry.output
    res = runner.invoke(app, ["mappings", "import", "--dir", str(DATA)])
    assert res.exit_code == 0, res.output
    assert "9 mappings (7 reviewed, 2 proposed or negated), 3 minted" in " ".join(res.output.split())
    store = open_store("oxigraph", path=store_dir)
    try:
        assert synthesis_graph(IRIS) in store.graphs()
    finally:
        store.close()
    ris = runner.invoke(app, ["feeds", "references", "--format", "ris"])
    assert sorted(e["doi"] for e in rispy.loads(ris.output)) == ["10.5555/fx", "10.5555/rv"]
    out = tmp_path / "f1.xlsx"
    assert runner.invoke(app, ["feeds", "cerqual", "F1", "-f", "xlsx", "-o", str(out)]).exit_code == 0
    assert_profile_sheet(openpyxl.load_workbook(out))
    assert runner.invoke(app, ["feeds", "cerqual", "F9"]).exit_code == 1


def assert_profile_sheet(wb: openpyxl.Workbook) -> None:
    """The layout api/tables.py gives (the CLI and the API share it): 4 component rows with concern codes
    as a dropdown, the overall row with confidence codes, the notices on their own sheet."""
    assert wb.sheetnames == ["cerqual-F1", "notes"]
    ws = wb["cerqual-F1"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    assert sorted((dv.formula1, str(dv.sqref)) for dv in ws.data_validations.dataValidation) == [
        ('"0,1,2,3"', "E2 E3 E4 E5"), ('"hc,mc,lc,vc"', "E6")]
    assert wb["notes"]["A2"].value.startswith("The review frame")


def test_listing_exporting_reviewing_and_assessing(store_dir: Path, tmp_path: Path) -> None:
    """mappings list --json (1 set: 7 reviewed, 2 proposed); review row 10 → 8 and 1; export without --set
    writes every set into DIR; feeds assess records a CERQual assessment that the SoQF then shows."""
    runner = CliRunner()
    assert runner.invoke(app, ["mappings", "import", "--dir", str(DATA)]).exit_code == 0
    listed = runner.invoke(app, ["mappings", "list", "--json"])
    assert json.loads(listed.output) == [{"set": SET_ID, "demonstration": True, "reviewed": 7, "proposed": 2}]
    res = runner.invoke(app, ["mappings", "review", SET_ID, TH2, SKOS_CLOSE, F2, "--reviewer", "Third Person"])
    assert res.exit_code == 0, res.output
    assert json.loads(runner.invoke(app, ["mappings", "list", "--json"]).output)[0]["reviewed"] == 8
    assert runner.invoke(app, ["mappings", "export"]).exit_code == 2  # every set needs --out DIR
    folder = tmp_path / "sets"
    assert runner.invoke(app, ["mappings", "export", "-o", str(folder)]).exit_code == 0
    assert [p.name for p in folder.iterdir()] == ["fixture.sssom.tsv"]
    assert "qkagent:third-person" in (folder / "fixture.sssom.tsv").read_text(encoding="utf-8")
    body = tmp_path / "a.json"
    body.write_text(json.dumps({**CERQUAL, "overall": {"confidence": "very low", "explanation": "x"}}),
                    encoding="utf-8")
    assert runner.invoke(app, ["feeds", "assess", "F2", str(body)]).exit_code == 0
    soqf = runner.invoke(app, ["feeds", "soqf", "-f", "json"])
    rows = {r["No."]: r["GRADE-CERQual Assessment"] for r in json.loads(soqf.stdout)["rows"]}
    assert rows == {"A1": "not assessed", "F1": "not assessed", "F2": "Very low confidence"}
    body.write_text(json.dumps({**CERQUAL, "components": {}}), encoding="utf-8")
    bad = runner.invoke(app, ["feeds", "assess", "F2", str(body)])
    assert bad.exit_code == 1 and "components.methodological_limitations" in bad.output


def test_bad_import_exits_1_and_writes_nothing(store_dir: Path, tmp_path: Path) -> None:
    """A published-theme label that is not the study's verbatim theme: located problem, exit 1, no graph."""
    folder = tmp_path / "syn"
    folder.mkdir()
    shutil.copy(DATA / "fx.frame.yaml", folder)
    text = (DATA / "fx.sssom.tsv").read_text(encoding="utf-8")
    (folder / "bad.sssom.tsv").write_text(text.replace("\tMoney worries\t", "\tMoney troubles\t", 1), encoding="utf-8")
    res = CliRunner().invoke(app, ["mappings", "import", "--dir", str(folder)])
    assert res.exit_code == 1
    assert "minted-iri" in res.output
    store = open_store("oxigraph", path=store_dir)
    try:
        assert synthesis_graph(IRIS) not in store.graphs()
    finally:
        store.close()
