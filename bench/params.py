"""Parameter sets for first askings, drawn at random in each run from the corpus's own values (decision 0134).

A set is never a question's defaults and never one drawn before in the run (`Draws.asked`), so no answer
could have been evaluated before it is asked: what a caller with new parameters waits for.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from rdflib.namespace import RDF, SKOS

from bench.corpus import FEATURES, ROLE_MIX, WORDS
from qualkg.ontology import vocabulary_graph
from qualkg.queries.catalog import VOCABULARIES, Catalog, Question

ParamSet = dict[str, str]


@dataclass(frozen=True)
class Values:
    """What a parameter may take, from the corpus: study ids, concept IRIs (codes, subthemes, themes), the
    words of their labels, and the vocabulary concepts the corpus uses (with their broader ones)."""

    studies: Sequence[str]
    concepts: Sequence[str]
    label_words: Sequence[str]
    vocab: Mapping[str, Sequence[str]]


def vocabulary_values() -> dict[str, list[str]]:
    """The local names of every concept of the role, feature and mode vocabularies, the corpus's first."""
    graph = vocabulary_graph()
    out: dict[str, list[str]] = {}
    for name, ns in VOCABULARIES.items():
        concepts = {*graph.subjects(SKOS.inScheme, None), *graph.subjects(RDF.type, SKOS.Concept)}
        every = sorted(str(s)[len(ns):] for s in concepts if str(s).startswith(ns))
        used = {"role": [r for r, _ in ROLE_MIX], "feature": list(FEATURES)}.get(name, [])
        out[name] = [*used, *(v for v in every if v not in used)]
    return out


@dataclass
class Draws:
    """Random parameter sets for the questions of `catalog` (seeded by `seed`, recorded with the figures)."""

    catalog: Catalog
    values: Values
    seed: int
    asked: set[tuple[str, tuple[tuple[str, str], ...]]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def draw(self, qid: str, tries: int = 200) -> ParamSet | None:
        """A parameter set for `qid` not asked before in this run and not its defaults; None when the question
        has no parameter (its one answer is the default one) or no new set was found in `tries` draws."""
        question = self.catalog.get(qid)
        defaults = {p.name: p.default for p in question.params if p.default}
        for _ in range(tries if question.params else 0):
            params: ParamSet = {}
            for p in question.params:
                if (v := self._value(question, p.name, params.get("study"))) is not None:
                    params[p.name] = v
            key = _key(qid, {k: v for k, v in params.items() if v != defaults.get(k)})
            if key[1] and key not in self.asked:
                self.asked.add(key)
                return params
        return None

    def _value(self, question: Question, name: str, study: str | None) -> str | None:
        p = question.param(name)
        assert p is not None
        rng = self.rng
        if not p.required and p.default is None and rng.random() < 0.5:
            return None  # an optional filter left out half the time
        pick: Callable[[Sequence[str]], str] = rng.choice
        if p.choices:
            return pick(p.choices)
        if p.type == "concept":
            vocab = self.values.vocab[p.vocab or ""]
            return pick(vocab[: max(3, len(vocab) // 2)] if rng.random() < 0.8 else vocab)
        if p.type == "study":
            return pick(self.values.studies)
        if p.type == "iri":  # a concept of the study chosen, if one was
            return pick([c for c in self.values.concepts if study is None or f"/study/{study}/" in c]
                        or self.values.concepts)
        if p.type == "bool":
            return pick(["true", "false"])
        if p.type == "int":
            low, high = p.minimum or 1, p.maximum or 10
            return str(rng.randint(low, min(high, low + 20)))
        if name == "topic":
            return pick(self.values.label_words)
        return pick(WORDS if name == "contains" else self.values.label_words)


def _key(qid: str, params: Mapping[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return qid, tuple(sorted(params.items()))
