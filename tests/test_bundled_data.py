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
from typer.testing import CliRunner

from qualkg.cli import app
from qualkg.ingest.mapping import map_study
from qualkg.ingest.package import read_package
from qualkg.ingest.pipeline import IngestReport, ingest
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import MODE, QK, QKDATA

STRUCTURE = "https://w3id.org/qualkg/vocab/structure/"
BIBO, PRISM = "http://purl.org/ontology/bibo/", "http://prismstandard.org/namespaces/basic/2.0/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

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


def _triples(folder: str) -> list[tuple[str, str, str]]:
    """The mapped graph of one bundled package, as (subject, predicate, object) strings."""
    [records] = read_package(DATA / folder)
    return [(t.subject.value, t.predicate.value, t.object.value) for t in map_study(records, IriScheme(str(QKDATA)))]


def _objects(predicate: str, folder: str = "seed-anestis-2025") -> Counter[str]:
    """How often each object of `predicate` occurs in a package's mapped graph."""
    return Counter(o for _, p, o in _triples(folder) if p == predicate)


def _author_list(folder: str) -> list[str]:
    """The names of bibo:authorList, walked along rdf:first / rdf:rest."""
    triples = _triples(folder)
    value = {(s, p): o for s, p, o in triples}
    [cell] = [o for _, p, o in triples if p == BIBO + "authorList"]
    names = []
    while cell != RDF + "nil":
        names.append(value[(cell, RDF + "first")])
        cell = value[(cell, RDF + "rest")]
    return names


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


def test_seed_publication_in_printed_order_with_structured_journal_fields() -> None:
    """Anestis E, Weaver T, Tew J, Carr S, Hendy C, Melia C, Clarke K, Pilling S (2025), BJPsych Open 11(5) e216."""
    assert _author_list("seed-anestis-2025") == ["Anestis E", "Weaver T", "Tew J", "Carr S", "Hendy C", "Melia C",
                                                 "Clarke K", "Pilling S"]
    fields = {p.removeprefix(PRISM): o for _, p, o in _triples("seed-anestis-2025") if p.startswith(PRISM)}
    assert fields == {"publicationName": "BJPsych Open", "volume": "11", "issueIdentifier": "5", "pageRange": "e216"}


def test_cooper_2024_lists_all_seventeen_authors() -> None:
    names = _author_list("related/cooper-2024")
    assert (len(names), names[:3], names[-1]) == (17, ["Cooper RE", "Saunders KRK", "Greenburgh A"], "Johnson S")
    assert _objects(str(QK.authorsComplete), "related/cooper-2024") == Counter()


def test_a_partial_author_list_says_so() -> None:
    """Byrne et al. 2019 is known by its first author only."""
    assert _author_list("related/byrne-2019") == ["Byrne"]
    assert _objects(str(QK.authorsComplete), "related/byrne-2019") == {"false": 1}


@pytest.mark.parametrize("folder", list(PACKAGES))
def test_no_bundled_publication_keeps_its_journal_in_free_text(folder: str) -> None:
    """Every bundled publication is a journal article (or has none): no dcterms:isPartOf venue text."""
    assert _objects("http://purl.org/dc/terms/isPartOf", folder) == Counter()


def test_the_bundled_mappings_import_against_the_bundled_studies(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """What `make run` does: load every package, then the mapping sets of data/synthesis, which name
    published themes by label; a relabelled theme its mapping still names is refused (exit 1)."""
    monkeypatch.setenv("QUALKG_STORE_PATH", str(tmp_path / "store"))
    monkeypatch.chdir(tmp_path)  # no stray .env from the checkout
    runner = CliRunner()
    loaded = runner.invoke(app, ["load-bundled", "--data", str(DATA)])
    assert loaded.exit_code == 0, (loaded.output, loaded.exception)
    imported = runner.invoke(app, ["mappings", "import", "--dir", str(DATA / "synthesis"), "--dry-run"])
    assert imported.exit_code == 0, (imported.output, imported.exception)
