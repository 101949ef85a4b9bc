"""Errors of the synthesis layer: every problem is an ingest `Problem` (file, row, field, value, rule)."""

from __future__ import annotations

from qualkg.ingest.problems import Problem, Where


class SynthesisError(ValueError):
    """Synthesis input was refused; nothing was written. Carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:10]) + (" …" if len(problems) > 10 else ""))


def problem(file: str, rule: str, message: str, *, row: int | None = None, field: str | None = None,
            value: str | None = None, element: str | None = None) -> Problem:
    """One located problem of synthesis input."""
    return Problem(Where(file, element, row, field), rule, message, value)


def fail(file: str, rule: str, message: str, *, row: int | None = None, field: str | None = None,
         value: str | None = None) -> SynthesisError:
    """One-problem error, for checks that cannot go on after the first failure."""
    return SynthesisError([problem(file, rule, message, row=row, field=field, value=value)])
