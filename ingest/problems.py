"""One located problem type for every layer that refuses input (ingest and synthesis).

Rows are counted as a spreadsheet shows them: the header row is row 1, the first data row is row 2
(docs/decisions/0020-one-problem-type.md).
"""

from __future__ import annotations

from dataclasses import dataclass

HEADER_ROW = 1  # the row number of a table's header; its first data row is HEADER_ROW + 1


@dataclass(frozen=True, slots=True)
class Where:
    """Where a record or a problem comes from: file, element or row, field."""

    file: str
    element: str | None = None  # XML element path or id, e.g. "PlainTextSelection[@guid=…]"
    row: int | None = None  # the row a spreadsheet shows: header = row 1, first data row = row 2
    field: str | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.element:
            parts.append(self.element)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(f"field {self.field}")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem: where, which value, which rule, in words a researcher understands."""

    where: Where
    rule: str  # short rule id, e.g. "xml-well-formed", "selection-within-text", "shacl:MinCount"
    message: str
    value: str | None = None
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        value = f" (value {self.value!r})" if self.value is not None else ""
        return f"{self.where}: {self.message} [{self.rule}]{value}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.where.file,
            "element": self.where.element,
            "row": self.where.row,
            "field": self.where.field,
            "value": self.value,
            "rule": self.rule,
            "message": self.message,
            "severity": self.severity,
        }


def yaml_location(loc: tuple[int | str, ...]) -> tuple[str | None, str | None]:
    """A pydantic error location in a YAML file as (element, field): ("teams", 0, "id") → ("teams[0].id", "id")."""
    element = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or None
    named = [p for p in loc if isinstance(p, str)]
    return element, named[-1] if named else None
