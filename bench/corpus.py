"""A deterministic synthetic corpus of coded interview studies, at any number of excerpts.

`generate(n)` gives the same `Corpus` for the same size and seed; `write_packages` writes it as study
packages, `write_qdpxs` as REFI-QDA projects. Every text is SYNTHETIC and flagged synthetic. Its
shape, and why: docs/decisions/0044-benchmark-corpus.md.
"""

from __future__ import annotations

import csv
import math
import random
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import yaml

EXCERPTS_PER_STUDY = 5_000
THEMES, SUBTHEMES_PER_THEME, CODES_PER_SUBTHEME = 5, 4, 15
FEATURES = ("flattened-hierarchy", "peer-supervision", "open-dialogue-training", "dual-caseload",
            "flexible-contracts", "funding-and-resources", "leadership-support", "low-pay", "peer-network",
            "role-clarity", "team-culture")
ROLE_MIX = (("peer-practitioner", 35), ("psychiatrist", 10), ("mental-health-nurse", 15), ("psychologist", 10),
            ("social-worker", 10), ("support-worker", 10), ("team-manager", 5), ("other-clinician", 5))
# Event size → (kind, structure): the grouping and the interview structure, two schemes (decision 0111).
EVENT_KINDS = {1: ("individual-interview", "semi-structured"), 2: ("joint-interview", "semi-structured")}
# A fixed, neutral word list: excerpt texts are random sequences of these, so no text is anyone's words.
_WORD_TEXT = """the a and to of in that it was we I they you but with for on at about team meeting
family peer role work support time when what how there more not really just felt think know feel
because people someone network service staff training supervision pay contract hierarchy voice share
story experience listen together open dialogue room manager clinician nurse doctor week month often
sometimes always never difficult easy useful different same first last other new old good hard own
would could should might made make sense space trust power decision plan care crisis home visit call
question answer talk said told asked heard learned changed helped worried safe equal value lived
part whole group colleague practice approach method model culture budget hours shift rota caseload
"""
WORDS = tuple(_WORD_TEXT.split())
# Subtheme topics: one holds "challenges", so the default headline question has answers.
SUBTHEME_TOPICS = ("challenges of the role", "opportunities", "relationships in the team", "organisational context")
INTERVIEWER_QUESTIONS = ("Can you say more about that?", "How did the team respond?", "What happened next?",
                         "How did that feel at the time?", "What would you change?")


@dataclass(frozen=True, slots=True)
class Excerpt:
    transcript: str
    start: int
    end: int
    text: str
    codes: tuple[str, ...]
    speaker: str


@dataclass(slots=True)
class Study:
    id: str
    organisations: list[tuple[str, str]]  # (id, label)
    teams: list[tuple[str, str, str, tuple[str, ...]]]  # (id, label, organisation, features)
    participants: list[tuple[str, str, str]]  # (id, role, team)
    events: list[tuple[str, str, str, tuple[str, ...]]]  # (id, kind, structure or "", participant ids)
    codes: list[tuple[str, str, str | None, str]]  # (id, label, parent, level)
    transcripts: dict[str, str] = field(default_factory=dict)  # id -> LF text
    excerpts: list[Excerpt] = field(default_factory=list)


@dataclass(slots=True)
class Corpus:
    excerpts: int
    seed: int
    studies: list[Study]


def _words(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    n = 0
    while n < chars:
        w = rng.choice(WORDS)
        out.append(w)
        n += len(w) + 1
    text = " ".join(out)
    return text[0].upper() + text[1:] + "."


def _quote_length(rng: random.Random) -> int:
    """Log-normal, median ~220 characters, clipped to 40..1,500 — the spread of quoted speech."""
    return max(40, min(1500, int(rng.lognormvariate(math.log(220), 0.6))))


def _codebook() -> list[tuple[str, str, str | None, str]]:
    codes: list[tuple[str, str, str | None, str]] = []
    for t in range(1, THEMES + 1):
        codes.append((f"t{t}", f"Synthetic theme {t}", None, "theme"))
        for s in range(1, SUBTHEMES_PER_THEME + 1):
            codes.append((f"t{t}-s{s}", f"Synthetic subtheme {t}.{s}: {SUBTHEME_TOPICS[s - 1]}", f"t{t}", "subtheme"))
            codes += [(f"t{t}-s{s}-c{c}", f"Synthetic code {t}.{s}.{c}", f"t{t}-s{s}", "code")
                      for c in range(1, CODES_PER_SUBTHEME + 1)]
    return codes


def _study(rng: random.Random, sid: str, n_excerpts: int) -> Study:
    orgs = [(f"site-{o}", f"Synthetic site {o}") for o in range(1, rng.randint(2, 3) + 1)]
    teams = []
    for org_id, _ in orgs:
        for k in range(1, rng.randint(2, 3) + 1):
            # Half the teams are flattened, so the default question has both matches and contrasts.
            features = {"flattened-hierarchy"} if rng.random() < 0.5 else set()
            features |= set(rng.sample(FEATURES[1:], rng.randint(1, 2)))
            teams.append((f"{org_id}-team-{k}", f"Synthetic team {org_id}/{k}", org_id, tuple(sorted(features))))
    roles, weights = zip(*ROLE_MIX, strict=True)
    n_people = max(12, n_excerpts // 100)
    people = [(f"P{i:03d}", rng.choices(roles, weights)[0], rng.choice(teams)[0]) for i in range(1, n_people + 1)]
    events: list[tuple[str, str, str, tuple[str, ...]]] = []
    queue = [p[0] for p in people]
    while queue:
        r = rng.random()
        size = 1 if r < 0.6 else 2 if r < 0.8 else rng.randint(4, 8)
        group, queue = tuple(queue[:size]), queue[size:]
        kind, structure = EVENT_KINDS.get(len(group), ("focus-group", ""))
        events.append((f"e{len(events) + 1:03d}", kind, structure, group))
    study = Study(sid, orgs, teams, people, events, _codebook())
    leaves = [c[0] for c in study.codes if c[3] == "code"]
    code_weights = [1 / (i + 1) ** 0.8 for i in range(len(leaves))]
    rng.shuffle(leaves)
    # Excerpts per transcript: proportional to the event's size (focus groups talk longer).
    sizes = [len(e[3]) for e in events]
    quota = [n_excerpts * s // sum(sizes) for s in sizes]
    for i in range(n_excerpts - sum(quota)):
        quota[i % len(quota)] += 1
    for (eid, _, _, members), count in zip(events, quota, strict=True):
        tid = f"t-{eid}"
        parts = [f"SYNTHETIC transcript {sid}/{tid}, generated for benchmarks; no one said these words.\n"]
        pos = len(parts[0])
        for _ in range(count):
            question = f"I: {rng.choice(INTERVIEWER_QUESTIONS)}\n"
            speaker = rng.choice(members)
            lead = f"{speaker}: "
            text = _words(rng, _quote_length(rng))
            start = pos + len(question) + len(lead)
            codes = tuple(dict.fromkeys(rng.choices(leaves, code_weights, k=rng.randint(1, 3))))
            study.excerpts.append(Excerpt(tid, start, start + len(text), text, codes, speaker))
            chunk = f"{question}{lead}{text}\n"
            parts.append(chunk)
            pos += len(chunk)
        study.transcripts[tid] = "".join(parts)
    return study


def generate(excerpts: int, seed: int = 20250101) -> Corpus:
    """The corpus of `excerpts` excerpts, identical for the same (excerpts, seed)."""
    rng = random.Random(seed)
    n_studies = max(1, round(excerpts / EXCERPTS_PER_STUDY))
    per = [excerpts // n_studies + (i < excerpts % n_studies) for i in range(n_studies)]
    return Corpus(excerpts, seed, [_study(rng, f"bench-{excerpts}-{i + 1:03d}", n) for i, n in enumerate(per)])


# ---------------------------------------------------------------- study packages (CSV)

def _csv(path: Path, header: list[str], rows: Sequence[Sequence[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def write_package(study: Study, folder: Path) -> Path:
    """One study package (see docs/study-package.md) with excerpts at explicit code-point offsets."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "transcripts").mkdir(exist_ok=True)
    meta = {
        "id": study.id, "title": f"Synthetic benchmark study {study.id}",
        "description": "SYNTHETIC study generated by bench/corpus.py for benchmarks.",
        "design": "qualitative interview study (synthetic)", "analysis": "thematic analysis",
        "countries": ["GB"], "synthetic": True,
        "organisations": [{"id": o, "label": label, "kind": "formal"} for o, label in study.organisations],
        "teams": [{"id": t, "label": label, "organisation": o, "features": list(f)} for t, label, o, f in study.teams],
    }
    (folder / "study.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    _csv(folder / "participants.csv", ["id", "pseudonym", "role", "team", "synthetic"],
         [[p, p, role, team, "true"] for p, role, team in study.participants])
    _csv(folder / "events.csv", ["id", "kind", "structure", "label", "participants", "synthetic"],
         [[e, kind, structure, f"Synthetic {kind} {e}", ";".join(m), "true"] for e, kind, structure, m in study.events])
    _csv(folder / "codebook.csv", ["id", "label", "parent", "level"],
         [[c, label, parent or "", level] for c, label, parent, level in study.codes])
    rows = []
    for tid, text in study.transcripts.items():
        (folder / "transcripts" / f"{tid}.txt").write_text(text, encoding="utf-8")
        rows.append([tid, f"Synthetic transcript {tid}", tid.removeprefix("t-"), "true", f"transcripts/{tid}.txt"])
    _csv(folder / "transcripts.csv", ["id", "label", "event", "synthetic", "text_file"], rows)
    _csv(folder / "excerpts.csv", ["transcript", "start", "end", "text", "codes", "speaker", "coder", "synthetic"],
         [[x.transcript, x.start, x.end, x.text, ";".join(x.codes), x.speaker, "coder-1", "true"]
          for x in study.excerpts])
    return folder


def write_packages(corpus: Corpus, folder: Path) -> list[Path]:
    """One package folder per study under `folder` (itself a collection `read_package` accepts)."""
    return [write_package(s, folder / s.id) for s in corpus.studies]


# ---------------------------------------------------------------- REFI-QDA projects

def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def write_qdpx(study: Study, path: Path, seed: int = 1) -> Path:
    """One REFI-QDA project: nested codes, 2 users, cases with role/team variables, text sources
    in sources/, selections in code points over LF text (end exclusive), named by their text."""
    rng = random.Random(f"{seed}/{study.id}")
    users = [_guid(rng), _guid(rng)]
    code_guid = {c[0]: _guid(rng) for c in study.codes}
    children: dict[str | None, list[tuple[str, str, str | None, str]]] = {}
    for c in study.codes:
        children.setdefault(c[2], []).append(c)

    def codes_xml(parent: str | None) -> str:
        return "".join(f'<Code guid="{code_guid[c]}" name={quoteattr(label)} isCodable="true">'
                       f'{codes_xml(c)}</Code>' for c, label, _, _ in children.get(parent, []))

    var_role, var_team = _guid(rng), _guid(rng)
    source_guid = {tid: _guid(rng) for tid in study.transcripts}
    by_transcript: dict[str, list[Excerpt]] = {}
    for x in study.excerpts:
        by_transcript.setdefault(x.transcript, []).append(x)
    selection_refs: dict[str, list[str]] = {}
    sources = []
    for tid in study.transcripts:
        sels = []
        for x in by_transcript.get(tid, []):
            sel = _guid(rng)
            selection_refs.setdefault(x.speaker, []).append(sel)
            user = rng.choice(users)
            codings = "".join(f'<Coding guid="{_guid(rng)}" creatingUser="{user}">'
                              f'<CodeRef targetGUID="{code_guid[c]}"/></Coding>' for c in x.codes)
            sels.append(f'<PlainTextSelection guid="{sel}" name={quoteattr(x.text)} startPosition="{x.start}" '
                        f'endPosition="{x.end}" creatingUser="{user}">{codings}</PlainTextSelection>')
        sources.append(f'<TextSource guid="{source_guid[tid]}" name="Synthetic transcript {tid}" '
                       f'plainTextPath="internal://{source_guid[tid]}.txt">{"".join(sels)}</TextSource>')
    cases = "".join(
        f'<Case guid="{_guid(rng)}" name="{p}">'
        f'<VariableValue><VariableRef targetGUID="{var_role}"/><TextValue>{role}</TextValue></VariableValue>'
        f'<VariableValue><VariableRef targetGUID="{var_team}"/><TextValue>{escape(team)}</TextValue></VariableValue>'
        + "".join(f'<SelectionRef targetGUID="{s}"/>' for s in selection_refs.get(p, [])) + "</Case>"
        for p, role, team in study.participants)
    qde = ('<?xml version="1.0" encoding="utf-8"?>\n'
           f'<Project xmlns="urn:QDA-XML:project:1.0" name="Synthetic benchmark study {study.id}" '
           'origin="qualkg bench/corpus.py">'
           f'<Users><User guid="{users[0]}" name="coder-1"/><User guid="{users[1]}" name="coder-2"/></Users>'
           f'<CodeBook><Codes>{codes_xml(None)}</Codes></CodeBook>'
           f'<Variables><Variable guid="{var_role}" name="role" typeOfVariable="Text"/>'
           f'<Variable guid="{var_team}" name="team" typeOfVariable="Text"/></Variables>'
           f'<Cases>{cases}</Cases><Sources>{"".join(sources)}</Sources></Project>')
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("project.qde", qde)
        for tid, text in study.transcripts.items():
            z.writestr(f"sources/{source_guid[tid]}.txt", text)
    return path


def write_qdpxs(corpus: Corpus, folder: Path) -> list[Path]:
    return [write_qdpx(s, folder / f"{s.id}.qdpx", corpus.seed) for s in corpus.studies]
