"""Checking in worker processes, by transcript chunks, gives what checking in one process gives (decision 0140)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from rdflib.compare import isomorphic

from qualkg.ingest.pipeline import check_batch, chunks, ingest
from qualkg.ingest.records import StudyRecords
from qualkg.ontology.iris import IriScheme
from qualkg.settings import Settings
from tests.fixture_study import fixture_records
from tests.ingest.test_pipeline import MINIMAL, as_graph, new_store

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _recased(rec: StudyRecords, index: int) -> StudyRecords:
    """Excerpt `index` with its quote upper-cased: same length, no longer the transcript's text."""
    rec.excerpts[index] = replace(rec.excerpts[index], text=rec.excerpts[index].text.upper())
    return rec


def _studies() -> list[StudyRecords]:
    """Three fixture studies; the first is wrong in transcript TR1 (excerpt 2), the third in TR2 (excerpt 4)."""
    return [_recased(fixture_records("fx-a"), 1), fixture_records("fx-b"), _recased(fixture_records("fx-c"), 3)]


def test_chunks_split_by_transcript_with_the_study_in_each() -> None:
    rec = fixture_records()
    parts = chunks(rec, 2)
    assert [[t.id for t in p.transcripts] for p in parts] == [["TR1"], ["TR2"]]
    assert [len(p.excerpts) for p in parts] == [3, 2]
    assert all(p.participants == rec.participants and p.codes == rec.codes for p in parts)
    assert chunks(rec, 5) == [rec]


def test_workers_find_the_same_problems_in_the_same_order(iris: IriScheme) -> None:
    """Two workers over six chunks (three studies, two transcripts each) against one process, whole studies."""
    one = check_batch(_studies(), iris, "fx", "0" * 64, workers=1, chunk=2)
    two = check_batch(_studies(), iris, "fx", "0" * 64, workers=2, chunk=2)
    assert [c.problems for c in two] == [c.problems for c in one]
    assert [set(c.triples) for c in two] == [set(c.triples) for c in one]
    assert [len(c.triples) for c in two] == [len(c.triples) for c in one]
    assert [c.spans for c in two] == [5, 5, 5]
    errors = [[(p.where.file, p.value) for _, p in c.problems if p.severity == "error"] for c in two]
    x2 = iris.excerpt("fx-a", iris.scoped("fx-a", "transcript", "TR1", synthetic=True), 27, 51, synthetic=True)
    x4 = iris.excerpt("fx-c", iris.scoped("fx-c", "transcript", "TR2", synthetic=True), 11, 28, synthetic=True)
    assert errors == [[("fx", x2)], [], [("fx", x4)]]
    # A study-level warning is found in both chunks of a study and reported once, as in one process.
    country = [sum("qk:country" in p.message for _, p in c.problems) for c in two]
    assert country == [1, 1, 1]


def _batch(tmp_path: Path) -> Path:
    """A folder of two copies of the minimal package (5 excerpt rows over transcripts T1, T2), the second renamed."""
    for name in ("one", "two"):
        (tmp_path / "batch" / name).mkdir(parents=True)
        for f in MINIMAL.iterdir():
            text = f.read_bytes()
            if name == "two" and f.name == "study.yaml":
                text = text.replace(b"id: fixture-study", b"id: fixture-study-two")
            (tmp_path / "batch" / name / f.name).write_bytes(text)
    return tmp_path / "batch"


def test_a_clean_batch_gives_the_same_report_and_graphs(tmp_path: Path, iris: IriScheme) -> None:
    batch = _batch(tmp_path)
    one, two = new_store(), new_store()
    serial = ingest(batch, one, iris, now=NOW, workers=1, chunk_excerpts=2)
    parallel = ingest(batch, two, iris, now=NOW, workers=2, chunk_excerpts=2)
    assert parallel.as_dict() == serial.as_dict()
    assert [(s.study, s.excerpts, s.transcripts) for s in parallel.studies] == [
        ("fixture-study", 5, 2), ("fixture-study-two", 5, 2)]
    for s in parallel.studies:
        assert isomorphic(as_graph(two, s.graph), as_graph(one, s.graph))


def test_the_worker_count_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """QUALKG_INGEST_WORKERS is read by the settings (the composition root), not by the pipeline."""
    monkeypatch.setenv("QUALKG_INGEST_WORKERS", "1")
    assert Settings().ingest_workers == 1
    monkeypatch.setenv("QUALKG_INGEST_WORKERS", "two")
    with pytest.raises(ValidationError, match="ingest_workers"):
        Settings()
    monkeypatch.setenv("QUALKG_INGEST_WORKERS", "0")
    with pytest.raises(ValidationError, match="ingest_workers"):
        Settings()
