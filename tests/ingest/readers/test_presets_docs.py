"""docs/qda-formats.md shows the preset registry's own table, so the docs list exactly the presets there are."""

from __future__ import annotations

from pathlib import Path

from qualkg.ingest.readers.presets import PRESET_CHOICES, presets_markdown

DOC = Path(__file__).parents[3] / "docs" / "qda-formats.md"


def test_the_docs_hold_the_generated_presets_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("<!-- presets table: generated")
    body = text[text.index("\n", start) + 1:text.index("<!-- end of presets table -->")].strip()
    assert body == presets_markdown().strip()
    assert all(f"`{name}`" in body for name in PRESET_CHOICES if name != "auto")
