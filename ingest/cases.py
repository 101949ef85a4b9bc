"""QDA cases' attributes (case variables, document variables or groups, a table's speaker columns) as
participants' roles, teams and team features (decision 0092).

A rule names the variable that holds a role, team or feature and maps its values to vocabulary concepts;
values no rule maps are listed once per variable.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache

from rdflib import SKOS, URIRef

from qualkg.ingest.records import Participant, Problem, StudyRecords, Team, Where
from qualkg.ontology import namespaces as ns
from qualkg.ontology.load import vocabulary_graph

KINDS = ("role", "team", "feature")
DEFAULT_VARIABLES: dict[str, tuple[str, ...]] = {
    "role": ("role", "job role", "position", "profession", "occupation", "staff group", "rolle", "rôle", "rol"),
    "team": ("team", "site", "unit", "service", "team name"),
    "feature": ("feature", "features", "team feature", "organisational feature", "organizational feature"),
}
_SCHEMES = {"role": ns.ROLE, "feature": ns.FEATURE}


@dataclass(frozen=True, slots=True)
class AttributeRule:
    variable: str
    kind: str  # role | team | feature
    values: Mapping[str, str] = field(default_factory=dict)  # attribute value → concept local name (team: label)


@cache
def concept_names(kind: str) -> Mapping[str, str]:
    """Case-folded local name, preferred and alternative labels → the concept's local name, for role or feature."""
    base = str(_SCHEMES[kind])
    graph = vocabulary_graph()
    names: dict[str, str] = {}
    for predicate in (SKOS.altLabel, SKOS.prefLabel):  # preferred labels win over alternative ones
        for s, _, label in graph.triples((None, predicate, None)):
            if isinstance(s, URIRef) and str(s).startswith(base) and str(s) != base + "scheme":
                names[str(label).casefold()] = str(s)[len(base):]
    for s in set(graph.subjects()):
        if isinstance(s, URIRef) and str(s).startswith(base) and str(s) != base + "scheme":
            names[str(s)[len(base):].casefold()] = str(s)[len(base):]
    return names


def default_rules(participants: list[Participant]) -> list[AttributeRule]:
    """The rules the variables' names suggest: a variable named like "Role" holds roles, and so on."""
    variables = sorted({name for p in participants for name, _ in p.attributes})
    rules = []
    for kind, names in DEFAULT_VARIABLES.items():
        rules += [AttributeRule(v, kind) for v in variables if v.strip().casefold() in names]
    return rules


def parse_rules(raw: object, where: Where) -> tuple[list[AttributeRule], list[Problem]]:
    """A study package's `case_attributes`: `{Variable: kind}`, `{Variable: {value: concept, …}}` (the kind is
    the vocabulary all concepts belong to) or `{Variable: {as: kind, values: {value: concept}}}`."""
    if not isinstance(raw, dict):
        return [], [Problem(where, "case-attributes", "case_attributes maps a case variable to role, team or "
                            "feature, or to {value: concept}.", type(raw).__name__)]
    rules, problems = [], []
    for variable, spec in raw.items():
        rule, problem = _rule(str(variable), spec, replace(where, element=f"case_attributes.{variable}"))
        if rule is not None:
            rules.append(rule)
        if problem is not None:
            problems.append(problem)
    return rules, problems


def _rule(variable: str, spec: object, where: Where) -> tuple[AttributeRule | None, Problem | None]:
    if isinstance(spec, str):
        spec = {"as": spec}
    if not isinstance(spec, dict):
        return None, Problem(where, "case-attributes", "Give a kind (role, team, feature) or {value: concept}.",
                             str(spec))
    if "as" in spec:
        kind, values = str(spec["as"]), spec.get("values") or {}
    else:
        values, kind = spec, _kind_of({str(v) for v in spec.values()}, variable)
    if kind not in KINDS or not isinstance(values, dict):
        return None, Problem(where, "case-attributes", "The kind must be role, team or feature, and its values a "
                             "map of attribute value to concept local name.", kind)
    mapped = {str(k): str(v) for k, v in values.items()}
    if kind != "team":
        wrong = sorted(v for v in mapped.values() if v not in concept_names(kind).values())
        if wrong:
            return None, Problem(where, "vocabulary", f"Not {kind} concepts of the vocabulary: {', '.join(wrong)}.",
                                 ", ".join(wrong))
    return AttributeRule(variable, kind, mapped), None


def _kind_of(concepts: set[str], variable: str) -> str:
    """The vocabulary all the concepts belong to, else the kind the variable's name suggests."""
    for kind in ("role", "feature"):
        if concepts and concepts <= set(concept_names(kind).values()):
            return kind
    return next((k for k, names in DEFAULT_VARIABLES.items() if variable.strip().casefold() in names), "unknown")


def apply_rules(rec: StudyRecords, rules: list[AttributeRule], *, source: str, override: bool = False) -> StudyRecords:
    """Roles and teams set from the participants' attributes (a role or team already given is kept unless
    `override`); teams are made for team values and get the features their members' cases name."""
    if not rules:
        return rec
    unmapped: dict[str, Counter[str]] = {}
    teams = {t.id: t for t in rec.teams}
    participants = []
    for p in rec.participants:
        role, team, features = _assign(p, rules, unmapped)
        role = role if override or p.role is None else p.role
        team = team if override or p.team is None else p.team
        if team is not None and team not in teams:
            teams[team] = Team(id=team, label=team)
        if features and team is None:
            unmapped.setdefault("(a team feature needs a team)", Counter())[", ".join(features)] += 1
        elif features and team is not None:
            teams[team] = replace(teams[team], features=tuple(dict.fromkeys((*teams[team].features, *features))))
        participants.append(replace(p, role=role, team=team))
    warnings = [_unmapped(source, variable, counts) for variable, counts in unmapped.items()]
    return replace(rec, participants=participants, teams=list(teams.values()), warnings=rec.warnings + warnings)


def _assign(p: Participant, rules: list[AttributeRule], unmapped: dict[str, Counter[str]]
            ) -> tuple[str | None, str | None, list[str]]:
    """The first role and team one participant's attributes map to, and every feature."""
    found: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for r in rules:
        for value in (v for name, v in p.attributes if name == r.variable and v.strip()):
            if r.kind == "team":
                concept: str | None = r.values.get(value) or value.strip()
            else:
                concept = r.values.get(value) or concept_names(r.kind).get(value.strip().casefold())
            if concept is None:
                unmapped.setdefault(r.variable, Counter())[value] += 1
            else:
                found[r.kind].append(concept)
    first = {kind: values[0] if values else None for kind, values in found.items()}
    return first["role"], first["team"], found["feature"]


def _unmapped(source: str, variable: str, counts: Counter[str]) -> Problem:
    listed = "; ".join(f"{value} ({n} case{'s' if n > 1 else ''})" for value, n in sorted(counts.items()))
    return Problem(Where(source, element=f"Variables/Variable[@name='{variable}']"), "attribute-unmapped",
                   f"These values of case variable '{variable}' match no vocabulary concept and are kept only as "
                   "attributes. Map them in a study package (case_attributes: {"
                   f"{variable}: {{value: concept}}}}) or use the vocabulary's labels.", listed, "warning")


__all__ = ["AttributeRule", "apply_rules", "concept_names", "default_rules", "parse_rules"]
