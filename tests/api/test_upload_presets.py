"""The upload route takes every preset of the one registry, and refuses an unknown one with the choices."""

from __future__ import annotations

import io

import pytest

from qualkg.ingest.readers.presets import PRESET_CHOICES
from tests.conftest import LiveServer

# One QualCoder coding export (tests/ingest/readers/test_presets.py): three spans of int01.txt, two coders.
QUALCODER = ("\ufeffFile,Coder,Coded,Id,Codename,Coded_Memo,Category\r\n"
             "int01.txt,ann,SYNTHETIC: I was never told my role.,1,Role clarity,,Challenges\r\n"
             "int01.txt,ben,SYNTHETIC: I was never told my role.,1,Role clarity,,Challenges\r\n"
             "int01.txt,ann,SYNTHETIC: We met weekly.,1,Support,a memo,\r\n").encode("utf-8")


def upload(live: LiveServer, preset: str) -> tuple[int, dict]:  # type: ignore[type-arg]  # any JSON answer
    with live.client("ingest") as client:
        answer = client.post("/studies", files={"file": ("qc.csv", io.BytesIO(QUALCODER), "text/csv")},
                             data={"dry_run": "true", "study": "qc", "preset": preset})
    return answer.status_code, answer.json()


@pytest.mark.parametrize("preset", ["qualcoder", "auto"])
def test_a_qualcoder_export_is_read_by_its_preset(live: LiveServer, preset: str) -> None:
    status, body = upload(live, preset)
    assert status == 200, body
    [study] = body["studies"]
    assert (study["study"], study["excerpts"]) == ("qc", 2)  # two spans; the second coder's span is the same one


def test_an_unknown_preset_is_refused_with_the_registry_choices(live: LiveServer) -> None:
    status, body = upload(live, "spss")
    assert status == 422
    [error] = body["detail"]
    assert error["loc"] == ["body", "preset"]
    assert all(choice in error["msg"] for choice in PRESET_CHOICES)


# A hand-made ATLAS.ti pair: the code "Pay: low, unfair" holds the joiner ", ", so row 2's Codes cell splits
# into 2 codes only with the codebook (3 without, against "Number of Codes" 2).
ATLAS_QUOTES = (b"Number;Document;Text Content;Codes;Number of Codes\r\n"
                b"1:1;Interview 1;SYNTHETIC pay is low.;Pay: low, unfair, Hierarchy;2\r\n")
ATLAS_CODES = b"Code;Comment;Code Group 1\r\nPay;;\r\nPay: low, unfair;;\r\nHierarchy;;\r\n"
# A generic table: 2 rows, 2 distinct spans; the mapping says which column is which.
TABLE = b"Transcript,Speaker,Theme,Quote\nt1,P1,Pay,SYNTHETIC one.\nt1,P2,Pay,SYNTHETIC two.\n"
MAPPING = b"document: Transcript\nparticipant: Speaker\ncode: Theme\ntext: Quote\n"


def post(live: LiveServer, files: dict[str, tuple[str, bytes]], preset: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    with live.client("ingest") as client:
        answer = client.post("/studies", data={"dry_run": "true", "study": "up", "preset": preset},
                             files={part: (name, io.BytesIO(data)) for part, (name, data) in files.items()})
    return answer.status_code, answer.json()


def test_generic_takes_a_mapping_file_part(live: LiveServer) -> None:
    status, body = post(live, {"file": ("t.csv", TABLE), "mapping": ("m.yaml", MAPPING)}, "generic")
    assert status == 200, body
    [study] = body["studies"]
    assert (study["excerpts"], study["participants"]) == (2, 2)


def test_generic_without_a_mapping_says_what_it_needs(live: LiveServer) -> None:
    status, body = post(live, {"file": ("t.csv", TABLE)}, "generic")
    assert status == 422 and body["written"] is False
    [problem] = body["problems"]
    assert (problem["file"], problem["rule"]) == ("t.csv", "preset") and "mapping" in problem["message"]


def test_a_wrong_mapping_is_located_in_its_file(live: LiveServer) -> None:
    wrong = MAPPING.replace(b"text: Quote", b"quote: Quote")
    status, body = post(live, {"file": ("t.csv", TABLE), "mapping": ("m.yaml", wrong)}, "generic")
    assert status == 422 and body["written"] is False
    assert sorted((p["file"], p["field"], p["rule"]) for p in body["problems"]) == [
        ("m.yaml", "quote", "mapping"), ("m.yaml", "text", "mapping")]


def test_atlasti_takes_a_codebook_file_part(live: LiveServer) -> None:
    status, body = post(live, {"file": ("q.csv", ATLAS_QUOTES), "codebook": ("codes.csv", ATLAS_CODES)}, "atlasti")
    assert status == 200, body
    [study] = body["studies"]
    assert study["excerpts"] == 1
    status, body = post(live, {"file": ("q.csv", ATLAS_QUOTES)}, "atlasti")
    assert status == 422
    assert [(p["file"], p["row"], p["rule"]) for p in body["problems"]] == [("q.csv", 2, "code-count")]


def test_a_mapping_part_needs_a_table_and_a_mapping_extension(live: LiveServer) -> None:
    status, body = post(live, {"file": ("s.qdc", b"<x/>"), "mapping": ("m.yaml", MAPPING)}, "auto")
    assert status == 422 and [e["loc"] for e in body["detail"]] == [["body", "mapping"]]
    status, body = post(live, {"file": ("t.csv", TABLE), "mapping": ("m.txt", MAPPING)}, "generic")
    assert status == 415 and "mapping" in body["detail"]


def test_two_parts_of_one_name_are_both_kept(live: LiveServer) -> None:
    """The table and its codebook may share a file name: each is read as what it is."""
    status, body = post(live, {"file": ("x.csv", ATLAS_QUOTES), "codebook": ("x.csv", ATLAS_CODES)}, "atlasti")
    assert status == 200, body
