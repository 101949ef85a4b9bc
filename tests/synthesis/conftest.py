"""Fixtures of the synthesis tests: the fixture study `fx`, a study-level review record `rv`, and
the fixture frame and mappings in tests/synthesis/data (all SYNTHETIC).

fx   tests/fixture_study.py, plus country GB and a publication: authors Roe R, Doe J, Abe K, Zed Z in that
     (not alphabetical) order, 2025, Fixture J 1(2):10-12 (see its docstring for the teams, participants,
     codes and excerpts X1–X5).
rv   a review record (fabio:ReviewArticle, unverified, country SE, synthetic) published as Poe A et al. (a
     partial author list), no year, Review J volume 2, with published themes
     "Money worries" and "Hierarchy returns" and two notes: a [verbatim] one quoting "pay was low",
     a [paraphrase] one quoting "staff were kind".
Frame fxframe: F1 Low pay, F2 Hierarchy; A1 Challenges derived from both; context GB,
     peer practitioner, flattened hierarchy.
Mappings (data/fx.sssom.tsv), by the row a spreadsheet shows for the table (the `#` metadata block is
not counted; the header is row 1), all ManualMappingCuration except row 9:
  2 fx C1 "Low pay"               closeMatch   F1
  3 rv "Money worries"            narrowMatch  F1
  4 rv "pay was low" (finding)    closeMatch   F1
  5 fx C2 "Compromised hierarchy" broadMatch   F2
  6 fx C3 "Shared decisions"      qk:refutes   F2
  7 rv "Hierarchy returns"        relatedMatch F2   (overlap: not support)
  8 fx TH2 "Team culture"         relatedMatch rv "Hierarchy returns"
  9 fx TH1 "Working as a peer"    closeMatch   F1   semapv:LexicalMatching, no reviewer: not accepted
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from qualkg.ingest.mapping import map_study
from qualkg.ingest.records import Note, Publication, Study, StudyRecords
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import QKDATA
from qualkg.store import open_store
from qualkg.store.base import GraphStore
from qualkg.synthesis.loader import load_synthesis
from qualkg.wiring import load_model
from tests.fixture_study import fixture_records

DATA = Path(__file__).parent / "data"
IRIS = IriScheme(str(QKDATA))


def fx_records() -> StudyRecords:
    r = fixture_records("fx")
    r.study = replace(r.study, countries=("GB",), publication=Publication(
        "10.5555/fx", "Fixture report", 2025, None, ("Roe R", "Doe J", "Abe K", "Zed Z"), "JournalArticle",
        journal="Fixture J", volume="1", issue="2", pages="10-12"))
    return r


def rv_records() -> StudyRecords:
    return StudyRecords(
        study=Study("rv", "Fixture review", publication=Publication(
            "10.5555/rv", "Fixture review report", None, None, ("Poe A",), "ReviewArticle", authors_complete=False,
            journal="Review J", volume="2"),
            countries=("SE",), published_themes=("Money worries", "Hierarchy returns"), synthetic=True,
            verification="unverified"),
        notes=[Note("note-1", 'Finding [verbatim]: "pay was low"', "study", "rv"),
               Note("note-2", 'Finding [paraphrase]: "staff were kind"', "study", "rv")])


def studies_store() -> GraphStore:
    """Model + fx + rv, no synthesis graph yet."""
    store = open_store("oxigraph", path=None)
    load_model(store)
    store.replace_graph(IRIS.graph("fx"), map_study(fx_records(), IRIS))
    store.replace_graph(IRIS.graph("rv"), map_study(rv_records(), IRIS))
    return store


@pytest.fixture(scope="session")
def syn_store() -> Iterator[GraphStore]:
    """Read-only: the two studies plus the fixture synthesis graph."""
    store = studies_store()
    load_synthesis(DATA, store, IRIS)
    yield store
    store.close()


@pytest.fixture()
def bare_store() -> Iterator[GraphStore]:
    """Writable: the two studies only."""
    store = studies_store()
    yield store
    store.close()
