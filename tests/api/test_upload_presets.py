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
