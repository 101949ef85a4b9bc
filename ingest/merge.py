"""A study package augments coded data from a QDA export (or tabular export) it points to.

QDA exports lack what the package knows: each case's team and role, team features, themes above
the codes. The merge keeps the package's study, organisations, teams, events and participants,
takes transcripts, excerpts, coders and notes from the export, and reconciles two things by name:
  - cases: the package's `cases:` map (case name → participant id) renames the export's case
    participants to the package's participants; unmapped cases stay as they are, with a warning;
  - codes: an export code whose label equals a package codebook entry (case-insensitive) becomes
    that entry, so the package can place export codes under its subthemes and themes.
"""

from __future__ import annotations

from dataclasses import replace

from qualkg.ingest.package import PackageRecords
from qualkg.ingest.records import Problem, StudyRecords, Where


def merge_coded(package: PackageRecords, coded: StudyRecords) -> StudyRecords:
    source = package.coded_data.file if package.coded_data else "coded data"
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
                                    f"case '{p.pseudonym}' is not in the package's cases map; kept without role or team",
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
    return StudyRecords(
        study=package.study, organisations=package.organisations, teams=package.teams,
        participants=package.participants + extra_participants, events=package.events,
        transcripts=package.transcripts + coded.transcripts, codes=codes,
        coders=package.coders + coded.coders, excerpts=package.excerpts + excerpts,
        notes=package.notes + coded.notes, warnings=warnings)
