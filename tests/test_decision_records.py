"""Every decision record has a number, a title, a status and the three sections, and the index lists it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DECISIONS = Path(__file__).parents[1] / "docs" / "decisions"
RECORDS = sorted(DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md"))


def test_there_are_records() -> None:
    assert len(RECORDS) >= 1


@pytest.mark.parametrize("record", RECORDS, ids=lambda p: p.name[:4])
def test_record_is_complete_and_indexed(record: Path) -> None:
    text = record.read_text(encoding="utf-8")
    assert re.match(rf"# {record.name[:4]} \S", text), "the title line starts with the record's number"
    assert re.search(r"^Status: \S", text, re.M)
    for section in ("## Context", "## Decision", "## Consequences"):
        assert section in text, section
    assert f"]({record.name})" in (DECISIONS / "README.md").read_text(encoding="utf-8")
