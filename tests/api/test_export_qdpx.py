"""GET /export/{study}?format=qdpx answers a REFI-QDA project that Project.xsd accepts, for `excerpts` callers."""

from __future__ import annotations

import io
import zipfile
from importlib.resources import as_file, files
from xml.etree import ElementTree

import xmlschema

from tests.conftest import LiveServer

NS = {"q": "urn:QDA-XML:project:1.0"}


def test_the_fixture_study_exports_as_a_valid_project(live: LiveServer) -> None:
    with live.client("excerpts") as client:
        answer = client.get("/export/fx", params={"format": "qdpx"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/vnd.refi-qda+zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    project = archive.read("project.qde")
    with as_file(files("qualkg.ingest").joinpath("schemas", "Project.xsd")) as xsd:
        xmlschema.XMLSchema(str(xsd)).validate(io.BytesIO(project))
    root = ElementTree.fromstring(project)
    # tests/fixture_study.py: five excerpts (P1 two, P2, N1 and N2 one each) over two transcripts
    assert len(root.findall(".//q:PlainTextSelection", NS)) == 5
    assert len(root.findall(".//q:TextSource", NS)) == 2
    assert len([n for n in archive.namelist() if n.startswith("sources/")]) == 2


def test_qdpx_needs_excerpts_and_a_real_study(live: LiveServer) -> None:
    with live.client("aggregate") as client:
        assert client.get("/export/fx", params={"format": "qdpx"}).status_code == 403
    with live.client("excerpts") as client:
        assert client.get("/export/synthesis", params={"format": "qdpx"}).status_code == 404
        assert client.get("/export/fx", params={"format": "docx"}).status_code == 422
