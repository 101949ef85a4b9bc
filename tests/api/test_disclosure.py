"""The disclosure rule on hand-made tables (api/disclosure.py, decision 0070), and on the live fixture study."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from qualkg.api.disclosure import (
    MAX_NOISE,
    PTABLE,
    CellKeys,
    disclose,
    load_or_create_secret,
    noise,
    noise_probability,
    published_probability,
)
from qualkg.queries.catalog import Column, Question
from tests.conftest import LiveServer

KEYS = CellKeys(b"test secret, 16+ bytes")
Q = Question(id="q", title="t", description="d", sparql="", columns=[
    Column(name="label"), Column(name="n", count="excerpt", records="n_records"), Column(name="text", text=True),
    Column(name="n_records", hidden=True)])


def records(n: int, prefix: str = "x") -> str:
    return " ".join(f"https://w3id.org/qualkg/id/fx/excerpt/{prefix}{i}" for i in range(n))


def frame(counts: list[int], prefix: str = "x") -> pd.DataFrame:
    return pd.DataFrame({"label": [f"{prefix}{i}" for i in range(len(counts))], "n": counts,
                         "text": ["t"] * len(counts),
                         "n_records": [records(c, f"{prefix}{i}-") for i, c in enumerate(counts)]})


def test_the_perturbation_table() -> None:
    """Two-sided geometric noise, alpha = 1/3, over the whole 64-bit key space: P(0) = 1/2, P(±1) = 1/6 each,
    zero mean, variance 3/2, neighbouring noises 3 times as likely, tails to the key's resolution."""
    assert PTABLE[0] == (-MAX_NOISE, 1) and PTABLE[-1] == (MAX_NOISE, 1 << 64) and MAX_NOISE == 40
    assert [b for _, b in PTABLE] == sorted(b for _, b in PTABLE)
    p = {n: noise_probability(n) for n in range(-MAX_NOISE, MAX_NOISE + 1)}
    assert abs(sum(p.values()) - 1) < 1e-12 and abs(p[0] - 0.5) < 1e-12 and abs(p[1] - 1 / 6) < 1e-12
    assert abs(sum(n * q for n, q in p.items())) < 1e-9 and abs(sum(n * n * q for n, q in p.items()) - 1.5) < 1e-9
    assert all(abs(p[n] / p[n + 1] - 3) < 1e-6 for n in range(1, 20))
    below_minus_1 = PTABLE[MAX_NOISE - 2][1]  # keys from here up to 2**62 draw -1: P(N ≤ -2) = 1/12
    keys = (0, below_minus_1 - 1, below_minus_1, (1 << 62) - 1, 1 << 62, (1 << 64) - 1)
    assert [noise(k) for k in keys] == [-40, -2, -1, -1, 0, 40]


def test_small_counts_are_never_published_as_such() -> None:
    """k = 3: 0 stays 0; 1 and 2 are null; c ≥ 3 is published as its weight plus noise, never below 3, within a
    few standard deviations (√(c/2 + 3/2)) of c."""
    counts = list(range(0, 40)) * 5
    out = disclose(frame(counts), Q, may_read_excerpts=False, k=3, keys=KEYS)
    for c, p in zip(counts, out.frame["n"], strict=True):
        if c == 0:
            assert p == 0
        elif c < 3:
            assert p is None
        else:
            assert p is None or (p >= 3 and abs(p - c) <= 5 * (c / 2 + 1.5) ** 0.5)
    assert out.suppressed == sum(1 for c, p in zip(counts, out.frame["n"], strict=True) if c and p is None)
    assert {"text", "n_records"}.isdisjoint(out.frame.columns) and out.text_removed and out.perturbed


def test_the_same_records_get_the_same_noise_anywhere() -> None:
    """A cell's noise depends on its set of records only: another question, another row, the records in
    another order or listed twice — the same published value; one record more — another key."""
    other = Question(id="o", title="t", description="d", sparql="", columns=[
        Column(name="row"), Column(name="col"), Column(name="m", count="participant", records="m_records"),
        Column(name="m_records", hidden=True)])
    sets = [records(c, f"s{c}-") for c in range(3, 60)]
    a = disclose(pd.DataFrame({"label": range(len(sets)), "n": range(3, 60), "text": "", "n_records": sets}),
                 Q, may_read_excerpts=False, k=3, keys=KEYS).frame["n"]
    shuffled = [" ".join(reversed(r.split() * 2)) for r in sets]
    b = disclose(pd.DataFrame({"row": "r", "col": range(len(sets)), "m": range(3, 60), "m_records": shuffled}),
                 other, may_read_excerpts=False, k=3, keys=KEYS).frame["m"]
    assert list(a) == list(b)
    keys = [KEYS.cell_key(r.split()) for r in sets]
    assert len(set(keys)) == len(keys)
    assert KEYS.cell_key([*sets[10].split(), "one more"]) != keys[10]


def test_the_noise_follows_the_table_and_the_secret() -> None:
    """Over 20 000 sets of records the noise is distributed as the table says; under another secret the
    same cells get other noise (nobody without the secret can tell a cell's noise from its records)."""
    sets = [[f"r{i}", f"r{i}b", f"r{i}c"] for i in range(20_000)]
    drawn = [noise(KEYS.cell_key(s)) for s in sets]
    for n in range(-4, 5):
        assert abs(drawn.count(n) / len(drawn) - noise_probability(n)) < 0.01
    other = CellKeys(b"another secret of 16+ bytes")
    assert sum(noise(other.cell_key(s)) != d for s, d in zip(sets, drawn, strict=True)) > 0.4 * len(sets)
    assert "secret" not in repr(KEYS).replace("<secret>", "")


def test_weights_add_up_so_differencing_gives_a_weight_never_a_count() -> None:
    """A total's weight is the sum of its disjoint parts' weights: a total minus a part, from any answers,
    gives the other part's weight (Binomial(2c, 1/2)), the same however many pairs are combined."""
    parts = [records(n, f"p{n}-").split() for n in (1, 2, 5, 40)]
    weights = [KEYS.cell(p)[1] for p in parts]
    assert KEYS.cell([r for p in parts for r in p])[1] == sum(weights)
    assert all(0 <= w <= 2 * len(p) for w, p in zip(weights, parts, strict=True))
    many = [KEYS.record_weight(f"r{i}") for i in range(20_000)]
    assert all(abs(many.count(w) / len(many) - p) < 0.015 for w, p in ((0, 0.25), (1, 0.5), (2, 0.25)))


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 7, 20])
def test_published_probability_is_a_distribution(count: int) -> None:
    outcomes = [None, *range(0, 3 * count + 60)]
    assert abs(sum(published_probability(p, count, 3) for p in outcomes) - 1) < 1e-9
    assert all(published_probability(p, count, 3) == 0 for p in (1, 2))  # never published in 1 … k − 1


def test_without_records_every_count_is_hidden() -> None:
    """A frame without its record columns (a bug) cannot be perturbed: disclosure control fails closed."""
    out = disclose(frame([0, 1, 5, 9]).drop(columns="n_records"), Q, may_read_excerpts=False, k=3, keys=KEYS)
    assert list(out.frame["n"]) == [0, None, None, None] and out.suppressed == 3
    assert list(disclose(frame([0, 5]), Q, may_read_excerpts=False, k=3).frame["n"]) == [0, None]


def test_everything_shown_with_the_excerpts_scope() -> None:
    df = frame([1, 4])
    out = disclose(df, Q, may_read_excerpts=True, k=3, keys=KEYS)
    assert out.frame.equals(df.drop(columns="n_records")) and out.suppressed == 0 and not out.perturbed


def test_an_answer_ordered_by_a_count_is_ordered_by_the_published_counts() -> None:
    """ORDER BY DESC(?n): the exact order would rank the hidden and the perturbed cells; the published one
    ranks what is shown, nulls last, labels breaking ties."""
    ordered = Question(id="o", title="t", description="d", columns=Q.columns,
                       sparql="SELECT ?label ?n ?text ?n_records WHERE { } ORDER BY DESC(?n) ?label")
    counts = sorted(range(1, 30), reverse=True)
    out = disclose(frame(counts), ordered, may_read_excerpts=False, k=3, keys=KEYS).frame
    shown = [(-(v if v is not None else -1), label) for v, label in zip(out["n"], out["label"], strict=True)]
    assert shown == sorted(shown)
    assert out["n"].iloc[-1] is None


def test_the_secret_is_kept_in_its_file(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "cell-key"
    secret = load_or_create_secret(path)
    assert len(secret) == 32 and load_or_create_secret(path) == secret
    assert path.stat().st_mode & 0o777 == 0o600


# -- listings with a row per person or excerpt (decision 0070) ------------------------------------------

ROW_PER_PERSON = ["/participants", "/questions/participants", "/excerpts", "/questions/excerpts"]


@pytest.mark.parametrize("path", ROW_PER_PERSON)
def test_row_per_person_listings_need_the_excerpts_scope(live: LiveServer, path: str) -> None:
    """Counting the rows of a listing with one row per participant (with role and team) or per excerpt
    gives back every count disclosure control hides: such listings need 'excerpts'."""
    with live.client("aggregate") as c:
        refused = c.get(path)
    with live.client("excerpts") as c:
        shown = c.get(path)
    assert refused.status_code == 403 and "excerpts" in refused.json()["detail"]
    assert shown.status_code == 200 and shown.json()["rows"]


def test_jbi_without_excerpts_is_the_outline(live: LiveServer) -> None:
    with live.client("aggregate") as c:
        body = c.get("/synthesis/jbi").json()
    assert body["question"] == "jbi-outline" and not {"illustration", "speaker"} & set(body["columns"])


def test_questions_list_no_hidden_column(live: LiveServer) -> None:
    with live.client("aggregate") as c:
        listed = {q["id"]: q["columns"] for q in c.get("/questions").json()}
    counts = {c["name"]: c["count"] for c in listed["cooccurrence"] if "count" in c}
    assert counts == {"n12": "pair", "n1": "excerpt", "n2": "excerpt"}
    assert all(not c.get("hidden") and "records" not in c for cols in listed.values() for c in cols)


# -- derived statistics (decision 0070) -------------------------------------------------------------------

CO = Question(id="co", title="t", description="d", sparql="", columns=[
    Column(name="code1"), Column(name="code2"), Column(name="n12", count="pair", records="r12"),
    Column(name="n1", count="excerpt", records="r1"), Column(name="n2", count="excerpt", records="r2"),
    Column(name="c", derived={"formula": "c-coefficient", "of": ["n12", "n1", "n2"]}),
    Column(name="r12", hidden=True), Column(name="r1", hidden=True), Column(name="r2", hidden=True)])


def test_the_c_coefficient_is_hidden_whenever_an_input_is() -> None:
    """k = 3. Row a: n12 = 1 hidden, n1 = n2 = 5 shown; c = 1/9 would give n12 = c(n1 + n2)/(1 + c) = 1, so c
    hides. Row b: n1 = 2 hidden; c = 3/(2 + 4 − 3) would give n1. Any row: c is computed from the published
    counts, or hidden."""
    df = pd.DataFrame({"code1": ["A", "A", "B"], "code2": ["B", "C", "C"], "n12": [1, 3, 4], "n1": [5, 2, 6],
                       "n2": [5, 4, 8], "c": [0.111, 1.0, 0.4]})
    for name, col in (("r12", "n12"), ("r1", "n1"), ("r2", "n2")):
        df[name] = [records(n, f"{name}{i}-") for i, n in enumerate(df[col])]
    out = disclose(df, CO, may_read_excerpts=False, k=3, keys=KEYS).frame
    assert list(out["c"])[:2] == [None, None]
    for r in out.itertuples():
        shown = None not in (r.n12, r.n1, r.n2)
        assert r.c == (round(r.n12 / (r.n1 + r.n2 - r.n12), 3) if shown else None)


def test_cooccurrence_hides_c_with_its_counts(live: LiveServer) -> None:
    """The fixture's two pairs have n12 = 1 < k = 2 (hidden): both c-coefficients hide too."""
    with live.client("aggregate") as c:
        rows = c.get("/questions/cooccurrence").json()["rows"]
    with live.client("excerpts") as c:
        exact = c.get("/questions/cooccurrence").json()["rows"]
    assert [r["c"] for r in exact] == [0.333, 0.333]
    assert rows and all(r["n12"] is None and r["c"] is None for r in rows)
