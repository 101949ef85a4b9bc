"""A study back out as .qdpx (decision 0090): valid against Project.xsd, and re-imported with the same excerpts,
codes, coders, speakers and offsets."""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from pathlib import Path

import pytest
import xmlschema

from qualkg.ingest.pipeline import ingest
from qualkg.ingest.readers import read
from qualkg.ingest.records import StudyRecords
from qualkg.ingest.writers import StudyNotFound, export_qdpx
from qualkg.ontology.iris import IriScheme
from qualkg.store import open_store
from qualkg.store.base import GraphStore
from qualkg.wiring import load_model

DATA = Path(__file__).parent / "data"
MINIMAL = DATA / "package" / "minimal"
NVIVO = DATA / "refi" / "nvivo12.6-win-oltas0517.qdpx"
XSD = Path(__file__).parents[2] / "ingest" / "schemas" / "Project.xsd"

Key = tuple[str, int, int, str, str | None, frozenset[tuple[str, ...]], str | None]


def new_store() -> GraphStore:
    store = open_store("oxigraph", path=None)
    load_model(store)
    return store


def one(path: Path) -> StudyRecords:
    batch = list(read(path, "auto", None))
    assert len(batch) == 1
    return batch[0]


def code_paths(rec: StudyRecords) -> dict[str, tuple[str, ...]]:
    """Code id → its labels from the top: codes compare by place in the hierarchy, not by id."""
    by_id = {c.id: c for c in rec.codes}

    def path(cid: str) -> tuple[str, ...]:
        out: list[str] = []
        while cid in by_id and len(out) <= len(by_id):
            out.insert(0, by_id[cid].label)
            cid = by_id[cid].parent or ""
        return tuple(out)

    return {cid: path(cid) for cid in by_id}


def excerpts(rec: StudyRecords) -> Counter[Key]:
    """One key per (span, coder): what a re-import must give back, with ids replaced by labels and names."""
    transcripts = {t.id: t.label for t in rec.transcripts}
    coders = {c.id: c.name for c in rec.coders}
    speakers = {p.id: p.pseudonym for p in rec.participants}
    paths = code_paths(rec)
    grouped: dict[tuple[str, int, int, str, str | None], tuple[set[tuple[str, ...]], str | None]] = {}
    for x in rec.excerpts:
        key = (transcripts[x.transcript], x.start, x.end, x.text, coders.get(x.coder or ""))
        grouped.setdefault(key, (set(), speakers.get(x.speaker or "")))[0].update(paths[c] for c in x.codes)
    return Counter((*k, frozenset(codes), speaker) for k, (codes, speaker) in grouped.items())


def exported(path: Path, iris: IriScheme, tmp_path: Path) -> tuple[StudyRecords, StudyRecords, bytes]:
    store = new_store()
    study = ingest(path, store, iris).studies[0].study
    data = export_qdpx(store, iris, study).data
    out = tmp_path / "exported.qdpx"
    out.write_bytes(data)
    return one(path), one(out), data


@pytest.mark.parametrize("source", [MINIMAL, NVIVO], ids=["package", "nvivo"])
def test_export_validates_against_project_xsd(source: Path, iris: IriScheme, tmp_path: Path) -> None:
    _, _, data = exported(source, iris, tmp_path)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        xmlschema.XMLSchema(str(XSD)).validate(io.BytesIO(zf.read("project.qde")))
    assert names[0] == "project.qde" and all(n.startswith("sources/") and n.endswith(".txt") for n in names[1:])


@pytest.mark.parametrize("source", [MINIMAL, NVIVO], ids=["package", "nvivo"])
def test_round_trip_keeps_excerpts_codes_coders_and_offsets(source: Path, iris: IriScheme, tmp_path: Path) -> None:
    before, after, _ = exported(source, iris, tmp_path)
    assert excerpts(after) == excerpts(before)
    assert sorted(code_paths(after).values()) == sorted(code_paths(before).values())
    assert sorted(c.name for c in after.coders) == sorted(c.name for c in before.coders)
    assert sorted(t.text or "" for t in after.transcripts) == sorted(t.text or "" for t in before.transcripts)
    assert sorted(p.pseudonym for p in after.participants) == sorted(p.pseudonym for p in before.participants)


def test_minimal_package_counts_by_hand(iris: IriScheme, tmp_path: Path) -> None:
    """excerpts.csv has 5 rows, 5 spans; C1 and C2 under TH1; coder1 and coder2; P1 spoke 3, N1 spoke 1."""
    _, after, _ = exported(MINIMAL, iris, tmp_path)
    assert len(after.excerpts) == 5 and len(after.codes) == 3 and len(after.coders) == 2
    spoken = Counter(p.pseudonym for x in after.excerpts for p in after.participants if p.id == x.speaker)
    assert spoken == Counter({"P1": 3, "N1": 1})
    assert {t.label: t.text for t in after.transcripts}["Transcript 1"] == (MINIMAL / "t1.txt").read_text()
    teams = {t.id: t for t in after.teams}
    got = {p.pseudonym: (p.role, teams[p.team].label, teams[p.team].features) for p in after.participants if p.team}
    assert got == {"P1": ("peer-practitioner", "Team A", ("flattened-hierarchy",)),
                   "N1": ("psychiatrist", "Team A", ("flattened-hierarchy",))}


def test_export_is_deterministic(iris: IriScheme) -> None:
    store = new_store()
    ingest(MINIMAL, store, iris)
    assert export_qdpx(store, iris, "fixture-study").data == export_qdpx(store, iris, "fixture-study").data


def test_unknown_study_is_refused(iris: IriScheme) -> None:
    with pytest.raises(StudyNotFound):
        export_qdpx(new_store(), iris, "no-such-study")


def test_synthetic_content_stays_synthetic(iris: IriScheme, tmp_path: Path) -> None:
    """The fixture package is SYNTHETIC throughout: its re-import must say so for every transcript, excerpt and
    participant, or invented quotes would come back as real ones."""
    _, after, _ = exported(MINIMAL, iris, tmp_path)
    assert after.study.synthetic
    assert all(t.synthetic for t in after.transcripts) and all(x.synthetic for x in after.excerpts)
    assert all(p.synthetic for p in after.participants)
    assert all(name != "qualkg:synthetic" for p in after.participants for name, _ in p.attributes)


def test_real_export_is_not_marked_synthetic(iris: IriScheme, tmp_path: Path) -> None:
    _, after, data = exported(NVIVO, iris, tmp_path)
    assert not after.study.synthetic and not any(x.synthetic for x in after.excerpts)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert b"qualkg:synthetic" not in zf.read("project.qde")
