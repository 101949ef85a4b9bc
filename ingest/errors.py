"""Ingest errors. Every error carries located problems; nothing is written when one is raised."""

from __future__ import annotations

from qualkg.ingest.problems import Problem, Where


class IngestError(Exception):
    """Input that cannot be ingested; `problems` lists each with file, element/row, field, value, rule."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0] if problems else None
        summary = f"{first.where}: {first.message}" if first else "invalid input"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(summary + more)


class ReaderError(IngestError):
    """The file could not be read as the format it claims to be."""


class ShapeViolation(IngestError):
    """The mapped graph does not conform to the SHACL shapes."""


def fail(file: str, rule: str, message: str, *, element: str | None = None, row: int | None = None,
         field: str | None = None, value: str | None = None) -> ReaderError:
    """Build a ReaderError with one located problem (raise the result)."""
    return ReaderError([Problem(Where(file, element, row, field), rule, message, value)])
