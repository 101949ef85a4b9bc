"""What the tools really write goes all the way into the graph: read, map, SHACL gate, store.

Counts are taken from the files themselves with plain zipfile/ElementTree or by reading the
fixture by eye, not from the readers under test.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from pyoxigraph import NamedNode

from qualkg.ingest.pipeline import ingest
from qualkg.ingest.readers import ReadOptions
from qualkg.ontology.iris import IriScheme
from qualkg.store import open_store
from qualkg.store.base import GraphStore
from qualkg.wiring import load_model

DATA = Path(__file__).parent / "data"
NVIVO = DATA / "refi" / "nvivo12.6-win-oltas0517.qdpx"
ATLAS = DATA / "refi" / "atlasti-win-23.4.0_codebook.qdc"
TAGUETTE = DATA / "tabular" / "taguette_highlights.csv"
NS = "{urn:QDA-XML:project:1.0}"


@pytest.fixture
def store() -> GraphStore:
    s = open_store("oxigraph", path=None)
    load_model(s)
    return s


def count(store: GraphStore, cls: str, study: str, iris: IriScheme) -> int:
    q = (f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x a <https://w3id.org/qualkg/ns#{cls}> ; "
         "<https://w3id.org/qualkg/ns#inStudy> ?s }")
    return int(store.select(q, {"s": NamedNode(iris.study(study))})[0]["n"].value)


def test_nvivo_project_export(store: GraphStore, iris: IriScheme) -> None:
    """Distinct (source, start, end, coder) spans and codes counted straight from project.qde."""
    with zipfile.ZipFile(NVIVO) as z:
        root = ElementTree.fromstring(z.read("project.qde"))
    codes = root.findall(f".//{NS}CodeBook//{NS}Code")
    spans = {(src.get("guid"), sel.get("startPosition"), sel.get("endPosition"))
             for src in root.iter(f"{NS}TextSource") for sel in src.iter(f"{NS}PlainTextSelection")
             if sel.find(f"{NS}Coding") is not None}
    report = ingest(NVIVO, store, iris, options=ReadOptions("nvivo-sample"))
    assert report.written
    assert count(store, "Code", "nvivo-sample", iris) == len(codes)
    assert count(store, "CodedExcerpt", "nvivo-sample", iris) == len(spans)
    assert count(store, "Transcript", "nvivo-sample", iris) == len(root.findall(f".//{NS}TextSource"))


def test_atlas_codebook(store: GraphStore, iris: IriScheme) -> None:
    report = ingest(ATLAS, store, iris, options=ReadOptions("atlas-codebook"))
    assert report.studies[0].codes == 1
    assert any(w.rule.startswith("xsd") for w in report.warnings)  # the schemaLocation quirk, as a warning
    colour = store.select("SELECT ?c WHERE { ?x <https://w3id.org/qualkg/ns#colour> ?c }")
    assert [r["c"].value for r in colour] == ["#46AA00"]


def test_taguette_csv(store: GraphStore, iris: IriScheme) -> None:
    """The fixture has 2 documents; its README lists the highlights it holds."""
    report = ingest(TAGUETTE, store, iris, options=ReadOptions("taguette", "taguette"))
    assert report.written and report.studies[0].transcripts == 2 and report.studies[0].excerpts > 0


def test_maxqda_xlsx(store: GraphStore, iris: IriScheme, tmp_path: Path) -> None:
    """Two segments of one document, one coded with a two-level path: 2 excerpts, codes A, A > B, C."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Document group", "Document name", "Code", "Segment", "Created by"])
    ws.append(["Group 1", "Interview 1", "A\\B", "SYNTHETIC: first segment.", "coder"])
    ws.append(["Group 1", "Interview 1", "C", "SYNTHETIC: second segment.", "coder"])
    path = tmp_path / "segments.xlsx"
    wb.save(path)
    report = ingest(path, store, iris, options=ReadOptions("maxqda", "maxqda"))
    assert (report.studies[0].excerpts, report.studies[0].codes) == (2, 3)
