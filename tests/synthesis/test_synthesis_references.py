"""References of the fixture synthesis (tests/synthesis/conftest.py) as RIS and CSL-JSON, by hand.

fx: Roe R, Doe J, Abe K, Zed Z (printed order, not alphabetical), 2025, Fixture J 1(2):10-12, doi 10.5555/fx,
    SYNTHETIC data, an invented study. rv: Poe A et al. (partial list), no year, Review J volume 2,
    doi 10.5555/rv, a review, unverified, synthetic.
"""

from __future__ import annotations

import json

import pytest
import rispy
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON

from qualkg.queries.catalog import Catalog
from qualkg.store.base import GraphStore
from qualkg.synthesis import feeds
from tests.synthesis.test_synthesis_feeds import _client

FX_NOTE = ("qualkg study fx; qualkg holds SYNTHETIC data for this study, not from the publication; INVENTED study: "
           "not a real publication")  # tests/fixture_study.py: the study itself is invented
RV_NOTE = ("qualkg study rv; author list incomplete (et al.): only the first authors are recorded; details "
           "unverified; qualkg holds SYNTHETIC data for this study, not from the publication")
FX_RIS = {"type_of_reference": "JOUR", "authors": ["Roe, R", "Doe, J", "Abe, K", "Zed, Z"], "title": "Fixture report",
          "year": "2025", "journal_name": "Fixture J", "volume": "1", "number": "2", "start_page": "10",
          "end_page": "12", "doi": "10.5555/fx", "urls": ["https://doi.org/10.5555/fx"], "notes": [FX_NOTE]}
RV_RIS = {"type_of_reference": "JOUR", "authors": ["Poe, A"], "title": "Fixture review report",
          "journal_name": "Review J", "volume": "2", "doi": "10.5555/rv", "urls": ["https://doi.org/10.5555/rv"],
          "notes": [RV_NOTE]}


def test_ris_by_hand_and_rispy_round_trip(catalog: Catalog, syn_store: GraphStore) -> None:
    """Authors in printed order; structured journal, volume, issue, pages; rv has no year, so no PY at all."""
    text = feeds.to_ris(feeds.references(syn_store, catalog))
    assert "nan" not in text.lower() and "None" not in text
    entries = rispy.loads(text)
    assert entries == [FX_RIS, RV_RIS]
    assert rispy.loads(rispy.dumps(entries)) == entries


def test_csl_json_renders_with_citeproc(catalog: Catalog, syn_store: GraphStore) -> None:
    """citeproc-py reads the items: Harvard (Cite Them Right) shortens 4 authors to 'et al.' and says
    'no date' for rv, whose year is not recorded."""
    items = json.loads(feeds.to_csl_json(feeds.references(syn_store, catalog)))
    assert [(i["id"], i["note"]) for i in items] == [("fx", FX_NOTE), ("rv", RV_NOTE)]
    assert "issued" not in items[1]
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
    for i in items:
        bibliography.register(Citation([CitationItem(i["id"])]))
    assert [str(b) for b in bibliography.bibliography()] == [
        "Roe, R. et al. (2025) “Fixture report”, Fixture J, 1(2), pp. 10–12. Available at: "
        "https://doi.org/10.5555/fx.",
        "Poe, A. (no date) “Fixture review report”, Review J, 2. Available at: https://doi.org/10.5555/rv."]


@pytest.mark.parametrize("finding", [None, "F1", "F2"])
def test_csl_over_http_never_fails(catalog: Catalog, syn_store: GraphStore, finding: str | None) -> None:
    """F2 reaches rv through its relatedMatch, so every finding lists fx and rv (support is not required)."""
    query = f"?finding={finding}" if finding else ""
    r = _client(syn_store, catalog, {"aggregate"}).get(f"/synthesis/references.csl.json{query}")
    assert r.status_code == 200
    assert [i["id"] for i in r.json()] == ["fx", "rv"]


def test_a_record_without_journal_gives_its_venue_and_nothing_missing() -> None:
    """No journal: the free-text venue goes to T2; single pages to SP only; no year, DOI or URL lines."""
    ref = {"id": "x", "title": "T", "authors": ["Abe K", "Zed Z"], "authors_complete": True, "year": None,
           "journal": None, "volume": None, "issue": None, "pages": "e216", "venue": "A report series",
           "doi": None, "kind": "JournalArticle", "unverified": False, "synthetic_data": False, "invented": False}
    assert rispy.loads(feeds.to_ris([ref])) == [{"type_of_reference": "JOUR", "authors": ["Abe, K", "Zed, Z"],
                                                 "title": "T", "start_page": "e216",
                                                 "secondary_title": "A report series", "notes": ["qualkg study x"]}]
