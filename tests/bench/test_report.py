"""The benchmark report puts runs together without mixing their figures."""

from __future__ import annotations

from typing import Any

import pytest

from bench.report import _main_question, combine, markdown

MACHINE = {"cores": 2, "memory_gb": 23.5, "cpu": "test cpu", "os": "linux", "python": "3.11",
           "load_before": [0.1, 0.2, 0.3]}


def run(plan: str, started: str, sizes: dict[str, list[dict[str, Any]]], capped: list[str],
        http: list[dict[str, Any]], steps: list[str]) -> dict[str, Any]:
    return {"plan": plan, "command": f"make {plan}", "started": started, "finished": started, "machine": MACHINE,
            "load_after": [0.4, 0.5, 0.6], "versions": {"pyoxigraph": "x"}, "sizes": sizes, "http": http,
            "capped": capped, "steps": [{"step": step, "seconds": 1.5} for step in steps]}


def question(qid: str, p50: float) -> dict[str, Any]:
    return {"kind": "question", "question": qid, "rows": 1, "qualkg": {"p50_ms": p50, "p95_ms": p50, "runs": 3}}


def ingest(rate: float) -> dict[str, Any]:
    return {"kind": "ingest", "excerpts": 1, "triples": 1, "studies": 1, "seconds": 1.0, "excerpts_per_s": rate,
            "peak_rss_mb": 1.0}


QUICK = run("quick", "2026-11-26T01:00:00+00:00",
            {"1000": [ingest(10.0)], "10000": [ingest(20.0), question("challenges-by-context", 5.0)]},
            ["10000: naive baseline: stopped at the 60 s cap"], [],
            ["1000: qualkg ingest", "10000: qualkg ingest", "10000: engines", "10000: question challenges-by-context"])
FULL = run("full", "2026-11-25T01:00:00+00:00",
           {"1000": [ingest(1.0)],
            "10000": [ingest(2.0), question("challenges-by-context", 7.0), question("teams", 1.0)],
            "100000": [ingest(3.0)]},
           ["10000: engines: stopped at the 1 s cap", "100000: question cooccurrence: stopped at the 90 s cap"],
           [{"target": "qualkg GET /health", "tool": "wrk", "requests": 50, "rps": 5.0, "p50_ms": 1.0, "p99_ms": 2.0,
             "non_2xx": 0}], ["full step"])


def test_each_row_comes_from_the_newest_run_that_measured_it() -> None:
    both = combine(QUICK, FULL)
    rates = {k: v[0]["excerpts_per_s"] for k, v in both["sizes"].items()}
    assert rates == {"1000": 10.0, "10000": 20.0, "100000": 3.0}
    # at 10k the quick run timed the main question (5 ms); the full run adds the question it alone timed
    assert [(r["question"], r["qualkg"]["p50_ms"]) for r in both["sizes"]["10000"] if r["kind"] == "question"] == \
        [("challenges-by-context", 5.0), ("teams", 1.0)]
    assert [(r["plan"], r["sizes"], r["filled"]) for r in both["runs"]] == \
        [("quick", [1000, 10000], []), ("full", [100000], [10000])]


def test_capped_notes_follow_their_sizes_and_http_the_newest_run_that_has_it() -> None:
    both = combine(QUICK, FULL)
    # the full run's 10k engines note is dropped: the quick run measured that step again
    assert both["capped"] == ["10000: naive baseline: stopped at the 60 s cap",
                              "100000: question cooccurrence: stopped at the 90 s cap"]
    assert both["http"] == FULL["http"]


def test_a_run_that_adds_no_size_is_not_listed() -> None:
    assert [r["plan"] for r in combine(FULL, QUICK)["runs"]] == ["full"]  # every quick row is in the full run


def test_the_last_row_of_a_question_holds_every_figure_measured() -> None:
    first = {"kind": "question", "question": "challenges-by-context", "rows": 3, "qualkg": {"p50_ms": 9.0}}
    last = {**first, "raw": {"p50_ms": 4.0}}
    assert _main_question([first, last]) == last


def test_the_markdown_names_each_run_and_its_sizes() -> None:
    both = combine(QUICK, FULL)
    text = markdown(both, {int(k): v for k, v in both["sizes"].items()})
    assert "`make quick`, 2026-11-26T01:00:00+00:00" in text and "sizes 1,000, 10,000;" in text
    assert "`make full`, 2026-11-25T01:00:00+00:00" in text
    assert "sizes 100,000; what the newer run did not measure at 10,000;" in text
    assert "| full step | 1.5 |" in text


def test_the_served_table_and_the_100k_target_read_the_first_askings() -> None:
    """Three first askings at 100k: 4, 9 and 30 ms → p50 9, p95 30 (the last of three); the main
    question's 4 ms meets 20 ms as served, while its computed 7,000 ms does not."""
    served = [{"kind": "served-start", "ready_s": 40.0, "warm_s": 75.5},
              *({"kind": "served", "question": qid, "ms": ms, "status": 200, "bytes": 10}
                for qid, ms in (("challenges-by-context", 4.0), ("teams", 9.0), ("matrix", 30.0)))]
    data = run("full", "2026-11-25T01:00:00+00:00",
               {"100000": [ingest(3.0), question("challenges-by-context", 7000.0), *served]}, [], [], [])
    text = markdown(data, {100_000: data["sizes"]["100000"]})
    assert "| 100,000 | *(server: ready / warm, s)* |  |  | 40.0 / 75.5 |" in text
    assert "| 100,000 | *(p50 / p95 over the questions)* |  |  | 9.0 / 30.0 |" in text
    target = next(line for line in text.splitlines() if line.startswith("| main question p50 ≤ 20 ms at 100k"))
    assert "as served (default parameters, answers kept warm): 4.0 ms" in target and "on disk 7,000.0 ms" in target
    assert target.endswith("| met as served; NOT met computed |")


def test_a_run_of_some_sizes_keeps_its_own_results_file() -> None:
    """--full --sizes 100000 measures 100k only, into full-100000.json (full.json keeps the other
    sizes of the last complete run); a size outside the plan is refused."""
    from bench.run import PLANS, selection

    assert selection(PLANS["full"], ()) == ((1_000, 10_000, 100_000, 1_000_000), "full",
                                            "make bench-full  (= python -m bench run --full)")
    assert selection(PLANS["full"], (100_000,)) == ((100_000,), "full-100000",
                                                    "python -m bench run --full --sizes 100000")
    with pytest.raises(SystemExit, match="among the quick plan's sizes: 1000, 10000"):
        selection(PLANS["quick"], (100_000,))
