"""Differencing attacks on disclosure control, by a caller with the `aggregate` scope only (k = 3).

Safe outcome (cell-key perturbation, decision 0070): a published total minus the visible cells of its
group leaves the hidden cell plus the noise of every cell involved, so more than one value of the hidden
cell fits what was published; and a total published by two questions over the same records is the same
number in both (no second, independent noise to average). The study is built so that the attack can be
worked out by hand (comment at LINES); tests/security/test_disclosure_attacks.py tries every question.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from qualkg.api.disclosure import MAX_NOISE
from qualkg.ingest.mapping import map_study
from qualkg.ingest.records import Code, Excerpt, Participant, Provenance, Study, StudyRecords, Transcript
from tests.badinputs.conftest import AGGREGATE_KEY, EXCERPTS_KEY, empty_store, hardened_app
from tests.conftest import IRIS, serve

pytestmark = pytest.mark.servers
STUDY = "synthetic-differencing"
# The study, worked out by hand (all SYNTHETIC):
#     Theme A ← code CA: 4 excerpts by P1 (peer practitioner), 1 by N1 (mental-health nurse)
#     Theme B ← code CB: 1 excerpt by P1, 1 by X1 (psychiatrist)
# The study overview (/studies/{id}) and /themes publish Theme A's total, 5; the role × theme matrix shows
# peer × A = 4 and hides nurse × A = 1; its count column also holds peer × B = 1 and psychiatrist × B = 1.
# Under plain small-cell suppression 5 − 4 = 1 gave the hidden cell exactly (the earlier per-column rule);
# secondary suppression closed this pair but not pairs across questions (issue 16); perturbation adds to
# both 5 and 4 a noise of at most MAX_NOISE, keyed on their records.
LINES = [("P1", "CA")] * 4 + [("N1", "CA"), ("P1", "CB"), ("X1", "CB")]


def records() -> StudyRecords:
    lines = [f"SYNTHETIC line {i}." for i in range(len(LINES))]
    text = "\n".join(lines)
    excerpts = []
    for (speaker, code), line in zip(LINES, lines, strict=True):
        start = text.index(line)
        excerpts.append(Excerpt("T1", start, start + len(line), line, (code,), speaker=speaker, synthetic=True,
                                provenance=Provenance("hand-made", offset_convention="codepoint/lf/exclusive")))
    return StudyRecords(
        study=Study(STUDY, "Differencing study (SYNTHETIC)", synthetic=True),
        participants=[Participant("P1", "P1", "peer-practitioner", synthetic=True),
                      Participant("N1", "N1", "mental-health-nurse", synthetic=True),
                      Participant("X1", "X1", "psychiatrist", synthetic=True)],
        transcripts=[Transcript("T1", "Transcript 1", text, synthetic=True)],
        codes=[Code("TA", "Theme A", level="theme"), Code("CA", "Code A", "TA"),
               Code("TB", "Theme B", level="theme"), Code("CB", "Code B", "TB")],
        excerpts=excerpts)


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    store = empty_store()
    store.replace_graph(IRIS.graph(STUDY), map_study(records(), IRIS))
    server, thread = serve(hardened_app(store, min_cell_count=3))
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=10)


def rows(url: str, key: str, path: str, **params: str) -> list[dict[str, object]]:
    r = httpx.get(f"{url}{path}", params={"study": STUDY, **params}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    return r.json()["rows"]


def test_the_fixture_is_what_the_comment_says(url: str) -> None:
    """With the `excerpts` scope nothing is suppressed: the hand-derived counts are the true ones."""
    totals = {r["label"]: r["excerpts"] for r in rows(url, EXCERPTS_KEY, "/themes")}
    cells = {(r["row"], r["column"]): r["excerpts"] for r in rows(url, EXCERPTS_KEY, "/questions/matrix", rows="role")}
    assert totals == {"Theme A": 5, "Theme B": 2}
    assert sorted(cells.values()) == [1, 1, 1, 4]


def feasible(published: int | None) -> set[int]:
    """Every true count that could have been published as `published` (k = 3; api/disclosure.py)."""
    if published is None:
        return set(range(1, 3 + MAX_NOISE))
    if published == 0:
        return {0}
    return {c for c in range(published - MAX_NOISE, published + MAX_NOISE + 1) if c >= 3}


def test_theme_total_minus_the_visible_cells_reveals_nothing(url: str) -> None:
    """Theme totals from every question that publishes them, against the role × theme matrix: the values of
    the hidden cell that fit the published numbers are never fewer than two."""
    totals = {r["label"]: [r["excerpts"]] for r in rows(url, AGGREGATE_KEY, "/themes")}
    for r in rows(url, AGGREGATE_KEY, f"/studies/{STUDY}"):
        if r["item"] in totals:
            totals[r["item"]].append(r["n"])
    assert all(len(set(v)) == 1 for v in totals.values()), f"one total, two published values: {totals}"
    matrix = rows(url, AGGREGATE_KEY, "/questions/matrix", rows="role")
    exact = {(r["row"], r["column"]): r["excerpts"] for r in rows(url, EXCERPTS_KEY, "/questions/matrix", rows="role")}
    for theme, (total, *_) in totals.items():
        cells = [r for r in matrix if r["column"] == theme]
        hidden = [r["row"] for r in cells if r["excerpts"] is None]
        if len(hidden) != 1:
            continue
        fits = {t - sum(v) for t in feasible(total)
                for v in _sums([feasible(r["excerpts"]) for r in cells if r["excerpts"] is not None])}
        fits &= feasible(None)
        assert exact[(hidden[0], theme)] in fits and len(fits) >= 2, f"{theme} × {hidden[0]}: only {fits} fit"


def _sums(sets: list[set[int]]) -> list[list[int]]:
    """Every choice of one value from each set."""
    out: list[list[int]] = [[]]
    for values in sets:
        out = [[*chosen, v] for chosen in out for v in values]
    return out
