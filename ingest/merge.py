"""A study package augments the coded data of the QDA or tabular export it points to (decision 0027).

Study, organisations, teams, events and participants come from the package; transcripts, excerpts, coders
and notes from the export. The `cases:` map renames case participants (unmapped ones stay, with a
warning); an export code labelled like a codebook entry becomes that entry.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from qualkg.ingest.cases import apply_rules
from qualkg.ingest.package import PackageRecords
from qualkg.ingest.records import Problem, StudyRecords, Where


def _package_rules(package: PackageRecords, coded: StudyRecords, source: str) -> StudyRecords:
    """The package's `case_attributes` rules (ingest.cases), in place of the ones the variables' names suggest."""
    rules = package.case_attributes
    if not rules:
        return coded
    plain = replace(coded, participants=[replace(p, role=None, team=None) for p in coded.participants], teams=[],
                    warnings=[w for w in coded.warnings if w.rule != "attribute-unmapped"])
    return apply_rules(plain, rules, source=source)


def _synthetic(coded: StudyRecords) -> StudyRecords:
    """Everything the export holds, marked synthetic: it is part of a package whose data are synthetic."""
    def mark(items: list[Any]) -> list[Any]:
        return [replace(x, synthetic=True) for x in items]
    return replace(coded, participants=mark(coded.participants), teams=mark(coded.teams),
                   transcripts=mark(coded.transcripts), codes=mark(coded.codes), excerpts=mark(coded.excerpts))


def merge_coded(package: PackageRecords, coded: StudyRecords) -> StudyRecords:
    source = package.coded_data.file if package.coded_data else "coded data"
    coded = _package_rules(package, coded, source)
    if package.study.synthetic:
        coded = _synthetic(coded)
    known = {p.id for p in package.participants}
    case_to_pid: dict[str, str] = {}
    warnings = list(package.warnings) + list(coded.warnings)
    extra_participants = []
    for p in coded.participants:
        target = package.cases.get(p.pseudonym) or package.cases.get(p.id)
        if target in known:
            case_to_pid[p.id] = target
        else:
            extra_participants.append(p)
            warnings.append(Problem(Where(source, element=f"Case {p.pseudonym}"), "case-unmapped",
                                    f"case '{p.pseudonym}' is not in the package's cases map; "
                                    "kept without role or team",
                                    p.pseudonym, "warning"))
    by_label = {c.label.casefold(): c for c in package.codes}
    code_map: dict[str, str] = {}
    codes = list(package.codes)
    for c in coded.codes:
        same = by_label.get(c.label.casefold())
        if same is not None:
            code_map[c.id] = same.id
            if c.description and not same.description:
                codes[codes.index(same)] = same = replace(same, description=c.description)
        else:
            codes.append(c)
    codes = [replace(c, parent=code_map.get(c.parent, c.parent)) if c.parent else c for c in codes]
    excerpts = [replace(x, speaker=case_to_pid.get(x.speaker, x.speaker) if x.speaker else None,
                        codes=tuple(dict.fromkeys(code_map.get(c, c) for c in x.codes)))
                for x in coded.excerpts]
    known_teams = {t.id for t in package.teams}
    used = {p.team for p in extra_participants}  # teams made from the cases' attributes (ingest.cases)
    teams = package.teams + [t for t in coded.teams if t.id in used and t.id not in known_teams]
    return StudyRecords(
        study=package.study, organisations=package.organisations, teams=teams,
        participants=package.participants + extra_participants, events=package.events,
        transcripts=package.transcripts + coded.transcripts, codes=codes,
        coders=package.coders + coded.coders, excerpts=package.excerpts + excerpts,
        notes=package.notes + coded.notes, warnings=warnings)
