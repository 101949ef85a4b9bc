"""Which column means what in a coded-segments table: the `ColumnMapping` and the tool presets.

A preset is a `ColumnMapping` known by name ("taguette", "maxqda"); a user's own mapping, declared in YAML or
JSON, goes through the same reader. Preset columns: docs/qda-formats.md §4 (decision 0026).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PresetName = Literal["auto", "taguette", "maxqda", "generic"]


class ColumnMapping(BaseModel):
    """The header names of the columns that carry each field; None = the table has no such column."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    document: str = Field(description="Document (transcript) name.")
    code: str = Field(description="Code path, parts joined by one of `separators`.")
    text: str = Field(description="The coded segment's text.")
    group: str | None = Field(None, description="Document group; part of the transcript's identity.")
    participant: str | None = Field(None, description="Pseudonym of the speaker.")
    role: str | None = Field(None, description="Speaker's role: a role concept local name.")
    coder: str | None = None
    start: str | None = Field(None, description="Tool's own start position (provenance only).")
    end: str | None = Field(None, description="Tool's own end position (provenance only).")
    segment_id: str | None = Field(None, description="Tool's own row/highlight id (provenance only).")
    separators: tuple[str, ...] = Field((" > ",), min_length=1, description="Code path separators.")
    tool: str | None = Field(None, description="Tool name recorded in provenance.")

    @field_validator("separators")
    @classmethod
    def _separators_not_empty(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not all(v):
            raise ValueError("a code path separator cannot be empty")
        return v

    @model_validator(mode="after")
    def _role_needs_participant(self) -> ColumnMapping:
        if self.role is not None and self.participant is None:
            raise ValueError("a role column needs a participant column (whose role is it?)")
        return self

    def columns(self) -> dict[str, str]:
        """Field name → declared column name, for the fields this mapping uses (all required)."""
        fields = ("document", "code", "text", "group", "participant", "role", "coder", "start", "end",
                  "segment_id")
        return {f: col for f in fields if (col := getattr(self, f)) is not None}


TAGUETTE = ColumnMapping(document="document", code="tag", text="content", segment_id="id",
                         separators=(".",), tool="Taguette")

_MAXQDA_REQUIRED = ColumnMapping(document="Document name", code="Code", text="Segment",
                                 separators=("\\", " > "), tool="MAXQDA")
_MAXQDA_OPTIONAL = {"group": "Document group", "coder": "Created by"}


def maxqda(header: list[str]) -> ColumnMapping:
    """The MAXQDA preset for this header.

    Only name, code and segment are certain; group and coder are used when present, and
    Begin/End only when both are (they are unconfirmed in real exports).
    """
    present = set(header)
    update = {f: col for f, col in _MAXQDA_OPTIONAL.items() if col in present}
    if {"Begin", "End"} <= present:
        update |= {"start": "Begin", "end": "End"}
    return _MAXQDA_REQUIRED.model_copy(update=update)


def detect(header: list[str]) -> Literal["taguette", "maxqda"] | None:
    """The preset whose signature columns are all in the header, or None."""
    present = set(header)
    if {"id", "document", "tag", "content"} <= present:
        return "taguette"
    if {"Document name", "Code", "Segment"} <= present:
        return "maxqda"
    return None
