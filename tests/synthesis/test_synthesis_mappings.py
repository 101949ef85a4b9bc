"""SSSOM import/export and the loader's checks, on the fixture mapping set (tests/synthesis/data)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib.namespace import PROV, SKOS

from qualkg.store.base import GraphStore
from qualkg.synthesis.errors import SynthesisError
from qualkg.synthesis.frame import read_frame
from qualkg.synthesis.loader import load_synthesis, read_folder, synthesis_graph
from qualkg.synthesis.mappings import (
    is_accepted,
    read_mapping_set,
    read_sssom,
    study_prefixes,
    validate_sssom_text,
    write_sssom,
)
from qualkg.synthesis.questions import synthesis_catalog
from tests.synthesis.conftest import DATA, IRIS

SET_ID = "https://w3id.org/qualkg/id/synthesis/mapping-set/fixture"
FX_C1 = IRIS.scoped("fx", "code", "C1")
F1 = f"{IRIS.base}review/fxframe/finding/low-pay"


def test_read_fixture_file() -> None:
    """9 mappings in rows 2-10 (header = row 1); CURIEs expanded; rows 2-8 name a reviewer, row 9 (lexical)
    and row 10 (manual curation, no reviewer) do not, so they are proposed, not accepted. The set declares
    itself a demonstration."""
    mset = read_sssom(DATA / "fx.sssom.tsv")
    assert (mset.id, len(mset.mappings), mset.demonstration) == (SET_ID, 9, True)
    assert [m.row for m in mset.mappings] == list(range(2, 11))
    first = mset.mappings[0]
    assert (first.subject_id, first.predicate_id, first.object_id, first.confidence, first.author_label) == (
        FX_C1, str(SKOS.closeMatch), F1, 0.9, ("Tester",))
    assert [is_accepted(m) for m in mset.mappings] == [True] * 7 + [False, False]
    assert [is_accepted(m, proposed=True) for m in mset.mappings] == [True] * 9
    assert first.reviewer_label == ("Second Reviewer",)


def test_sssom_round_trip(syn_store: GraphStore, tmp_path: Path) -> None:
    """import → store → export → import gives the same mappings, and the export passes sssom-py's validator."""
    original = read_sssom(DATA / "fx.sssom.tsv")
    exported = read_mapping_set(syn_store, synthesis_catalog(IRIS), SET_ID)
    assert set(exported.mappings) == set(original.mappings)
    assert (exported.license, exported.description, exported.demonstration) == (
        original.license, original.description, True)
    used = [v for m in exported.mappings for v in (m.subject_id, m.object_id, *m.author_id) if v]
    text = write_sssom(exported, study_prefixes(used, IRIS.base))
    assert validate_sssom_text(text) == []
    (tmp_path / "out.sssom.tsv").write_text(text, encoding="utf-8")
    again = read_sssom(tmp_path / "out.sssom.tsv")
    assert set(again.mappings) == set(original.mappings)
    assert (again.id, again.demonstration) == (original.id, True)


def test_loaded_graph_derivations(syn_store: GraphStore) -> None:
    """Accepted supporting mappings into a finding become prov:wasDerivedFrom; refutes, relatedMatch and
    the unreviewed lexical row do not. F1 ← C1, Money worries, pay was low."""
    rows = syn_store.select(
        f"SELECT ?c WHERE {{ GRAPH <{synthesis_graph(IRIS)}> {{ <{F1}> <{PROV.wasDerivedFrom}> ?c }} }}")
    assert {r["c"].value for r in rows} == {FX_C1, f"{IRIS.study('rv')}/published-theme/money-worries",
                                            f"{IRIS.study('rv')}/published-finding/pay-was-low"}


@pytest.mark.parametrize(("row", "rule"), [
    ("fx:code/c1-ab861dc1\tLow pay\tskos:closeMatch\tqkreview:fxframe/finding/nope\tNope", "unknown-term"),
    ("fx:code/c1-ab861dc1\tLow wages\tskos:closeMatch\tqkreview:fxframe/finding/low-pay\tLow pay", "label"),
    ("rv:published-theme/money-troubles\tMoney troubles\tskos:closeMatch\tqkreview:fxframe/finding/low-pay\tLow pay",
     "verbatim"),
    ("rv:published-finding/staff-were-kind\tstaff were kind\tskos:closeMatch\tqkreview:fxframe/finding/low-pay\t"
     "Low pay", "verbatim"),
    ("rv:published-theme/money\tMoney worries\tskos:closeMatch\tqkreview:fxframe/finding/low-pay\tLow pay",
     "minted-iri"),
    ("qkreview:fxframe/finding/low-pay\tLow pay\tskos:closeMatch\tfx:code/c1-ab861dc1\tLow pay", "finding-as-object"),
    ("fx:code/c1-ab861dc1\tLow pay\tskos:exactMatch\tqkreview:fxframe/finding/low-pay\tLow pay", "exact-match"),
    ("fx:code/c1-ab861dc1\tLow pay\tskos:mappingRelation\tqkreview:fxframe/finding/low-pay\tLow pay", "predicate"),
    ("nope:x\tLow pay\tskos:closeMatch\tqkreview:fxframe/finding/low-pay\tLow pay", "curie"),
])
def test_bad_mapping_is_refused_and_nothing_written(bare_store: GraphStore, tmp_path: Path, row: str,
                                                    rule: str) -> None:
    """The first mapping (row 2: the header is row 1, the `#` block is not counted) replaced by a bad one:
    the located problem names the rule and row 2; no synthesis graph."""
    shutil.copy(DATA / "fx.frame.yaml", tmp_path)
    lines = (DATA / "fx.sssom.tsv").read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("subject_id"))
    rest = lines[header + 1].split("\t")[5:]
    if rule == "exact-match":
        rest[-1] = ""  # no comment
    lines[header + 1] = "\t".join([row, *rest])
    (tmp_path / "bad.sssom.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SynthesisError) as e:
        load_synthesis(tmp_path, bare_store, IRIS)
    assert rule in {p.rule for p in e.value.problems}
    assert any(p.where.row == 2 for p in e.value.problems if p.rule == rule)
    assert synthesis_graph(IRIS) not in bare_store.graphs()


def test_missing_confidence_is_refused(tmp_path: Path) -> None:
    """SSSOM reads a missing confidence as 1.0, so qualkg insists on one."""
    text = (DATA / "fx.sssom.tsv").read_text(encoding="utf-8").replace("\t0.9\t", "\t\t", 1)
    (tmp_path / "c.sssom.tsv").write_text(text, encoding="utf-8")
    with pytest.raises(SynthesisError) as e:
        read_sssom(tmp_path / "c.sssom.tsv")
    assert [(p.where.row, p.where.field, p.rule) for p in e.value.problems] == [(2, "confidence", "confidence")]


def test_bundled_synthesis_files_parse() -> None:
    """The bundled frame and mapping sets pass the frame schema and sssom-py's validator; every
    bundled mapping is curated in this repo (ManualMappingCuration) and says so in its comment."""
    frames, sets = read_folder(Path(__file__).parents[2] / "data" / "synthesis")
    assert [f.id for _, f in frames] == ["peer-support"]
    mappings = [m for _, s in sets for m in s.mappings]
    assert len(sets) == 3
    assert all(m.mapping_justification.endswith("ManualMappingCuration") for m in mappings)
    assert all((m.comment or "").startswith("Curated in this repo") for m in mappings)
    assert not any(m.reviewer_id for m in mappings)  # no second person has reviewed them: all proposed
    assert {s.id.rsplit("/", 1)[-1]: s.demonstration for _, s in sets} == {
        "seed-to-frame": True, "related-to-frame": False, "study-to-study": False}


def test_problem_rows_are_the_rows_a_spreadsheet_shows(bare_store: GraphStore, tmp_path: Path) -> None:
    """Counted by hand in tests/synthesis/data/fx.sssom.tsv: the `#` block is not counted, the header is
    row 1, "Low pay" row 2; a blank line inserted after it is row 3 (a spreadsheet shows it), so the
    "Money worries" mapping, relabelled "Money troubles" (its IRI no longer the slug of its label), is row 4."""
    shutil.copy(DATA / "fx.frame.yaml", tmp_path)
    lines = (DATA / "fx.sssom.tsv").read_text(encoding="utf-8").splitlines()
    i = next(n for n, line in enumerate(lines) if "\tMoney worries\t" in line)
    lines[i] = lines[i].replace("\tMoney worries\t", "\tMoney troubles\t")
    lines.insert(i, "")
    (tmp_path / "bad.sssom.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SynthesisError) as e:
        load_synthesis(tmp_path, bare_store, IRIS)
    assert [(p.where.row, p.where.field, p.rule) for p in e.value.problems] == [(4, "subject_id", "minted-iri")]
    assert str(e.value.problems[0]).startswith(f"{tmp_path / 'bad.sssom.tsv'}, row 4, field subject_id: ")


def test_frame_id_must_be_a_slug(tmp_path: Path) -> None:
    """The frame id is the last segment of the frame's IRI ({base}review/{id}), so it must be a slug."""
    text = (DATA / "fx.frame.yaml").read_text(encoding="utf-8").replace("id: fxframe", "id: FX Frame", 1)
    (tmp_path / "bad.frame.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SynthesisError) as e:
        read_frame(tmp_path / "bad.frame.yaml")
    assert [(p.rule, p.where.element, p.value) for p in e.value.problems] == [("frame-id", "id", "FX Frame")]
