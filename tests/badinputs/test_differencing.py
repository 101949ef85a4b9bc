"""Differencing attacks on disclosure control, by a caller with the `aggregate` scope only (k = 3).

Safe outcome (cell-key perturbation, decision 0070): a published total minus the visible cells of its
group leaves the hidden cell plus the noise of every cell involved, so the hidden cell's value stays a
guess (its posterior below 0.8); and a total published by two questions over the same records is the same
number in both (no second, independent noise to average). The study is built so that the attack can be
worked out by hand (comment at LINES); tests/security/test_disclosure_attacks.py tries every question.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import httpx
import pytest

from qualkg.api.disclosure import published_probability
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
# both 5 and 4 weights and noise keyed on their records: 5 − 4 gives the hidden cell's weight (0, 1 or 2)
# plus the difference of two noises.
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


def likelihood(published: int | None, true: int) -> float:
    """P(published | true count) under api/disclosure.py (k = 3)."""
    return published_probability(published, true, 3)


def test_theme_total_minus_the_visible_cells_reveals_nothing(url: str) -> None:
    """Theme totals from every question that publishes them, against the role × theme matrix. The hidden
    cell's posterior, from the published total and visible cells (flat priors), never reaches 0.8."""
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
        shown = [r["excerpts"] for r in cells if r["excerpts"] is not None]
        posterior = {h: sum(likelihood(total, h + sum(v)) * _product(likelihood(p, o) for p, o in zip(shown, v,
                                                                                                         strict=True))
                            for v in _sums([set(range(3, 20))] * len(shown)))
                     for h in range(1, 12)}
        posterior = {h: w / sum(posterior.values()) for h, w in posterior.items()}
        assert posterior[exact[(hidden[0], theme)]] > 0 and max(posterior.values()) < 0.8, (theme, posterior)


def _product(values: Iterable[float]) -> float:
    out = 1.0
    for v in values:
        out *= v
    return out


def _sums(sets: list[set[int]]) -> list[list[int]]:
    """Every choice of one value from each set."""
    out: list[list[int]] = [[]]
    for values in sets:
        out = [[*chosen, v] for chosen in out for v in values]
    return out
