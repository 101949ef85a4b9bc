"""A study package that points to a QDPX export: the package adds roles, teams and themes.

The package maps the export's case "Case A" to P1 and files its code "Low pay" under a subtheme; the
records and the headline question's answer carry both.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from qualkg.ingest.pipeline import ingest
from qualkg.ingest.readers import read
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import QKDATA
from qualkg.queries.catalog import default_catalog
from qualkg.store import open_store
from qualkg.wiring import load_model

# One source, two selections: [0, 22) "SYNTHETIC: Pay is low." coded "Low pay", [23, 42) "We share decisions."
# coded "Shared decisions"; its one case "Case A" speaks that source.
TEXT = "SYNTHETIC: Pay is low. We share decisions."
G = "00000000-0000-4000-8000-{:012d}".format
QDE = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Merge test" origin="test tool 1.0">
<Users><User guid="{G(1)}" name="coder-one"/></Users>
<CodeBook><Codes><Code guid="{G(10)}" name="Low pay" isCodable="true"/>
<Code guid="{G(11)}" name="Shared decisions" isCodable="true"/></Codes></CodeBook>
<Cases><Case guid="{G(20)}" name="Case A"><SourceRef targetGUID="{G(30)}"/></Case></Cases>
<Sources><TextSource guid="{G(30)}" name="Interview A" plainTextPath="internal://{G(30)}.txt">
<PlainTextSelection guid="{G(40)}" name="SYNTHETIC: Pay is low." startPosition="0" endPosition="22">
<Coding guid="{G(50)}" creatingUser="{G(1)}"><CodeRef targetGUID="{G(10)}"/></Coding></PlainTextSelection>
<PlainTextSelection guid="{G(41)}" name="We share decisions." startPosition="23" endPosition="42">
<Coding guid="{G(51)}" creatingUser="{G(1)}"><CodeRef targetGUID="{G(11)}"/></Coding></PlainTextSelection>
</TextSource></Sources>
</Project>"""
# "Case A" → P1, a peer in a flattened-hierarchy team; "Low pay" listed under its subtheme "Challenges"
STUDY = """id: merge-test
title: Merge test (SYNTHETIC)
synthetic: true
organisations: [{id: org-a, label: Trust A (placeholder), verification: unverified}]
teams: [{id: team-a, label: Team A, organisation: org-a, features: [flattened-hierarchy]}]
coded_data: {qdpx: export.qdpx}
cases: {Case A: P1}
"""


def make_package(tmp_path: Path) -> Path:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "study.yaml").write_text(STUDY)
    (pkg / "participants.csv").write_text("id,pseudonym,role,team\nP1,P1,peer-practitioner,team-a\n")
    (pkg / "codebook.csv").write_text("id,label,parent,level\nTH1,Working as a peer,,theme\n"
                                      "ST1,Challenges,TH1,subtheme\nC1,Low pay,ST1,code\n")
    with zipfile.ZipFile(pkg / "export.qdpx", "w") as z:
        z.writestr("project.qde", QDE)
        z.writestr(f"sources/{G(30)}.txt", TEXT)
    return pkg


def test_merge_maps_cases_and_codes(tmp_path: Path) -> None:
    [rec] = read(make_package(tmp_path))
    assert [p.id for p in rec.participants] == ["P1"]
    assert {x.text: (x.speaker, x.codes) for x in rec.excerpts} == {
        "SYNTHETIC: Pay is low.": ("P1", ("C1",)),
        "We share decisions.": ("P1", (G(11),)),
    }
    assert {c.label for c in rec.codes} == {"Working as a peer", "Challenges", "Low pay", "Shared decisions"}


def test_merged_package_answers_the_headline_question(tmp_path: Path) -> None:
    """P1 is a peer in a flattened-hierarchy team and said "Low pay", under the subtheme "Challenges"."""
    store = open_store("oxigraph", path=None)
    load_model(store)
    ingest(make_package(tmp_path), store, IriScheme(str(QKDATA)))
    df = default_catalog().run(store, "challenges-by-context", {})
    assert list(zip(df["code"], df["excerpts"], strict=True)) == [("Low pay", 1)]
