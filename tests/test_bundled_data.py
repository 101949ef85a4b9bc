"""Every study package bundled in data/ reads, maps and passes the SHACL gate (what `make run` loads).

The package list and the seed's counts are written out by hand (data/README.md; the seed's counts
from its abstract: 9 peer and 18 non-peer participants, 11 interviews and 4 focus groups with the
non-peers, three themes; the invented split: 5 individual and 2 joint peer interviews, 9
transcripts, 45 excerpts). Nothing is written: the pipeline runs without a store.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qualkg.ingest.pipeline import IngestReport, ingest
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import QKDATA

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
