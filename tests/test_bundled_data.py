"""Every study package bundled in data/ reads, maps and passes the SHACL gate (what `make run` loads).

The package list and the seed's counts are written out by hand (data/README.md; the seed's counts
from its abstract: 9 peer and 18 non-peer participants, 11 interviews and 4 focus groups with the
non-peers, three themes; the invented split: 5 individual and 2 joint peer interviews, 9
transcripts, 45 excerpts). Nothing is written: the pipeline runs without a store.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from qualkg.ingest.mapping import map_study
from qualkg.ingest.package import read_package
from qualkg.ingest.pipeline import IngestReport, ingest
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import MODE, QK, QKDATA

STRUCTURE = "https://w3id.org/qualkg/vocab/structure/"

DATA = Path(__file__).parents[1] / "data"
RELATED = ["akerblom-ness-2022", "anestis-2024", "bellingham-2018", "berrett-2021", "byrne-2019",
           "chmielowska-2022", "cooper-2024", "german-psw-observation-2021", "gillard-2013", "hendy-2023",
           "ibrahim-2020", "kinane-2022", "lorenz-artz-2023", "maclellan-2015", "mirbahaeddin-chreim-2022",
           "oddessi-programme", "otte-2020", "reeves-2024", "ser-2024", "sunthararajah-2022", "swedish-psw-2021",
           "tribe-2019", "vandewalle-2016", "walker-bryant-2013"]
# folder → study id; each related folder is named after its study
PACKAGES = {"seed-anestis-2025": "anestis-2025", **{f"related/{name}": name for name in RELATED}}


def _ingest(folder: str) -> IngestReport:
    return ingest(DATA / folder, None, IriScheme(str(QKDATA)), fmt="package")


def _objects(predicate: str) -> Counter[str]:
    """How often each object of `predicate` occurs in the seed's mapped graph."""
    [records] = read_package(DATA / "seed-anestis-2025")
    return Counter(t.object.value for t in map_study(records, IriScheme(str(QKDATA))) if t.predicate.value == predicate)


def test_the_bundled_packages_are_the_listed_ones() -> None:
    found = {str(p.parent.relative_to(DATA)) for p in DATA.rglob("study.yaml")}
    assert found == set(PACKAGES)


@pytest.mark.parametrize("folder", [f for f in PACKAGES if f.startswith("related/")])
def test_related_study_record_ingests(folder: str) -> None:
    """A study-level record: one study, no participants, events, transcripts or excerpts."""
    [study] = _ingest(folder).studies
    assert study.study == PACKAGES[folder]
    assert (study.participants, study.events, study.transcripts, study.excerpts) == (0, 0, 0, 0)


def test_seed_package_ingests_with_the_published_design() -> None:
    [study] = _ingest("seed-anestis-2025").studies
    assert study.study == "anestis-2025"
    assert (study.participants, study.events, study.transcripts, study.excerpts, study.themes) == (27, 22, 9, 45, 3)


def test_seed_events_record_grouping_and_structure_apart() -> None:
    """events.csv: pi01-pi05 individual and semi-structured; ni01-ni11 individual, structure not
    reported; pj01-pj02 joint; fg01-fg04 focus groups. No old combined kind is left (no warning)."""
    assert _objects(str(QK.collectionMode)) == {str(MODE["individual-interview"]): 16,
                                                str(MODE["joint-interview"]): 2, str(MODE["focus-group"]): 4}
    assert _objects(str(QK.interviewStructure)) == {STRUCTURE + "semi-structured": 5}
    assert _ingest("seed-anestis-2025").warnings == []
