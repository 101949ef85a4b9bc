"""The review frame's YAML reader: ingest's depth-limited, alias-refusing loader (hand-made inputs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualkg.synthesis.errors import SynthesisError
from qualkg.synthesis.frame import read_frame
from tests.synthesis.conftest import DATA


def test_fixture_frame_reads() -> None:
    frame = read_frame(DATA / "fx.frame.yaml")
    assert (frame.id, [f.notation for f in frame.findings()], frame.synthetic) == ("fxframe", ["F1", "F2", "A1"], True)


@pytest.mark.parametrize(("text", "rule"), [
    ("id: x\ntitle: &t T\ndescription: *t\ndescriptive_themes: []\n", "yaml-alias"),
    ("id: x\nnote: " + "[" * 60 + "]" * 60 + "\n", "yaml-depth"),
])
def test_aliases_and_deep_nesting_refused(tmp_path: Path, text: str, rule: str) -> None:
    path = tmp_path / "bad.frame.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SynthesisError) as e:
        read_frame(path)
    assert [(p.rule, p.where.file) for p in e.value.problems] == [(rule, str(path))]
