"""`python -m bench run --quick|--full [--sizes N ...] [--out docs]`; `python -m bench report quick|full` rewrites the
docs from the last run's figures; `python -m bench worker …` is internal (bench/run.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main() -> None:
    if sys.argv[1:2] == ["worker"]:
        from bench.workers import main as worker_main

        worker_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(prog="python -m bench")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="measure and regenerate docs/benchmarks.md")
    size = run.add_mutually_exclusive_group(required=True)
    size.add_argument("--quick", action="store_const", const="quick", dest="plan", help="1k and 10k excerpts")
    size.add_argument("--full", action="store_const", const="full", dest="plan", help="1k to 1M excerpts")
    run.add_argument("--sizes", type=int, nargs="+", default=(), help="only these of the plan's sizes (e.g. 100000)")
    run.add_argument("--out", type=Path, default=Path("docs"), help="folder for benchmarks.md and bench-growth.png")
    again = sub.add_parser("report", help="regenerate docs/benchmarks.md from bench/results/PLAN.json (no measuring)")
    again.add_argument("plan", choices=["quick", "full"])
    again.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    if args.command == "report":
        import json

        from bench.report import combine, write
        from bench.run import RESULTS, previous_runs

        current = json.loads((RESULTS / f"{args.plan}.json").read_text(encoding="utf-8"))
        write(combine(current, *previous_runs(exclude=args.plan)), args.out)
        return
    from bench.run import run as run_bench

    run_bench(args.plan, args.out, tuple(args.sizes))


if __name__ == "__main__":
    main()
