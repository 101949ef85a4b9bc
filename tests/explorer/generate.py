"""A generated study package with a 500-code codebook, for the explorer's tests at a real project's size.

The seed package's participants, events and transcripts are kept; the codebook becomes 5 themes × 10
subthemes × 10 codes (500 codes, 556 nodes with the study), labels from a fixed word list (every 37th code
a long one, over 90 characters), and the 45 seed excerpts are recoded onto codes 0, 11, 22, … All of it is
SYNTHETIC test data.
"""

from __future__ import annotations

import csv
import random
import shutil
from pathlib import Path

import yaml

THEMES, SUBTHEMES, CODES = 5, 10, 10  # per theme, per subtheme
STUDY_ID = "generated-500"
WORDS = ("supervision", "trust", "night shifts", "lived experience", "team meetings", "hierarchy", "pay",
         "training", "role clarity", "family", "network", "recovery", "boundaries", "caseload", "managers",
         "listening", "dialogue", "peer", "risk", "waiting lists", "referrals", "housing", "medication",
         "stigma", "hope", "burnout", "sharing stories", "rotas", "handover", "carers")


def label(rng: random.Random, words: int, taken: set[str]) -> str:
    """A label of `words` words from WORDS, unique among `taken` (a number is added on a clash)."""
    text = " ".join(rng.choice(WORDS) for _ in range(words)).capitalize()
    unique, n = text, 2
    while unique in taken:
        unique, n = f"{text} {n}", n + 1
    taken.add(unique)
    return unique


def codebook_rows() -> list[dict[str, str]]:
    rng = random.Random(500)
    taken: set[str] = set()
    rows: list[dict[str, str]] = []

    def row(cid: str, text: str, parent: str, level: str) -> None:
        rows.append({"id": cid, "label": text, "parent": parent, "level": level,
                     "description": f"SYNTHETIC generated {level} for the explorer's tests.", "synthetic": "true"})

    for t in range(THEMES):
        theme = f"theme-{t}"
        row(theme, f"Theme {t + 1}: {label(rng, 3, taken)}", "", "theme")
        for s in range(SUBTHEMES):
            sub = f"sub-{t}-{s}"
            row(sub, label(rng, rng.randint(2, 6), taken), theme, "subtheme")
            for c in range(CODES):
                n = (t * SUBTHEMES + s) * CODES + c
                row(f"code-{n:03d}", label(rng, 15 if n % 37 == 0 else rng.randint(1, 7), taken), sub, "code")
    return rows


def generate(seed: Path, folder: Path) -> Path:
    """The package under `folder`: the seed's people and events, the generated codebook, recoded excerpts."""
    package = folder / STUDY_ID
    shutil.copytree(seed, package)
    study = yaml.safe_load((package / "study.yaml").read_text(encoding="utf-8"))
    study.update(id=STUDY_ID, title="Generated project: 500 codes in three levels (SYNTHETIC test data)",
                 description="SYNTHETIC: generated for the explorer's tests; not a study.", published_themes=[])
    study.pop("publication", None)
    (package / "study.yaml").write_text(yaml.safe_dump(study, sort_keys=False, allow_unicode=True), encoding="utf-8")
    codes = codebook_rows()
    with (package / "codebook.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(codes[0]))
        writer.writeheader()
        writer.writerows(codes)
    with (package / "excerpts.csv").open(newline="", encoding="utf-8") as f:
        excerpts = list(csv.DictReader(f))
    for i, x in enumerate(excerpts):
        x["codes"] = f"code-{(11 * i) % (THEMES * SUBTHEMES * CODES):03d}"
    with (package / "excerpts.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(excerpts[0]))
        writer.writeheader()
        writer.writerows(excerpts)
    return package
