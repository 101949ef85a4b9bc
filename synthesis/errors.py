"""Errors of the synthesis layer: every problem says where (file, row, field), what value and which rule."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SynthesisProblem:
    file: str
    row: int | None  # 1-based data row of a mapping table (the column header is not counted)
    field: str | None
    value: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = ", ".join(x for x in (self.file, f"row {self.row}" if self.row else None,
                                      f"field {self.field}" if self.field else None) if x)
        value = f" (value {self.value!r})" if self.value is not None else ""
        return f"{where}: {self.message} [{self.rule}]{value}"


class SynthesisError(ValueError):
    """Synthesis input was refused; nothing was written. Carries every problem found."""

    def __init__(self, problems: list[SynthesisProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:10]) + (" …" if len(problems) > 10 else ""))


def fail(file: str, rule: str, message: str, *, row: int | None = None, field: str | None = None,
         value: str | None = None) -> SynthesisError:
    """One-problem error, for checks that cannot go on after the first failure."""
    return SynthesisError([SynthesisProblem(file, row, field, value, rule, message)])
