"""The SHACL shapes, tested on small synthetic fixtures (see cases/README.md).

Each case is the base study graph (cases/study.ttl) with one overlay. A valid case gives no validation
result; an invalid one gives exactly the results its header lists, derived by hand from the overlay and
the shape it breaks (focus node, path, severity, source shape, and the message where listed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node

from qualkg.ontology.load import model_graph, shape_files, shapes_graph

CASES = Path(__file__).parent / "cases"
QK_SHAPES = Namespace("https://w3id.org/qualkg/shapes#")
REMOVED = URIRef("urn:qualkg-test:removed")

PathKey = tuple[tuple[str, URIRef], ...]  # a result path as ((direction, property), ...); () = no path
ResultKey = tuple[Node, PathKey, URIRef, URIRef]  # (focus, path, severity, source shape)


@dataclass(frozen=True)
class Case:
    path: Path
    expected: frozenset[ResultKey]
    messages: tuple[str, ...]

    @property
    def id(self) -> str:
        return str(self.path.relative_to(CASES))


_PREFIX = re.compile(r"@prefix\s+([A-Za-z][\w-]*):\s*<([^>]*)>")


def _resolve(term: str, prefixes: dict[str, str]) -> URIRef:
    """`<iri>` or `prefix:local`, with the case file's own prefixes (rdflib's defaults could differ)."""
    term = term.strip()
    if term.startswith("<"):
        return URIRef(term[1:-1])
    prefix, local = term.split(":", 1)
    return URIRef(prefixes[prefix] + local)


def _expected_path(text: str, prefixes: dict[str, str]) -> PathKey:
    if text.strip() == "-":
        return ()
    return tuple(("", _resolve(step, prefixes)) for step in text.split("/"))


def _load_case(path: Path) -> Case:
    text = path.read_text(encoding="utf-8")
    prefixes = dict(_PREFIX.findall(text)) | {"qk-shapes": str(QK_SHAPES)}
    expected: set[ResultKey] = set()
    messages: list[str] = []
    for line in text.splitlines():
        if line.startswith("# expect:"):
            focus, result_path, severity, shape = line.removeprefix("# expect:").split("|")
            expected.add((_resolve(focus, prefixes), _expected_path(result_path, prefixes),
                          SH[severity.strip()], _resolve(shape, prefixes)))
        elif line.startswith("# message:"):
            messages.append(line.removeprefix("# message:").strip())
    return Case(path, frozenset(expected), tuple(messages))


def _cases(folder: Path) -> list[Case]:
    return [_load_case(p) for p in sorted(folder.rglob("*.ttl"))]


VALID = _cases(CASES / "valid")
INVALID = _cases(CASES / "invalid")


def _apply(overlay_path: Path) -> Graph:
    """The base study with the overlay applied: each (subject, predicate) of the overlay replaces the base's."""
    data = Graph().parse(CASES / "study.ttl", format="turtle")
    overlay = Graph().parse(overlay_path, format="turtle")
    for s, p in set(overlay.subject_predicates()):
        data.remove((s, p, None))
    for s, p, o in overlay:
        if o != REMOVED:
            data.add((s, p, o))
    return data


def _path_key(report: Graph, path: Node | None) -> PathKey:
    if path is None:
        return ()
    if isinstance(path, BNode) and (path, RDF.first, None) in report:
        return tuple(step for item in Collection(report, path) for step in _path_key(report, item))
    if isinstance(path, BNode):
        return (("^", report.value(path, SH.inversePath)),)
    return (("", path),)


def _validate(data: Graph) -> tuple[bool, Graph]:
    # the way the ingest gate runs it: pySHACL, the ontology and vocabularies as ont_graph, no inference
    conforms, report, _ = validate(data, shacl_graph=shapes_graph(), ont_graph=model_graph(),
                                   inference="none", allow_warnings=True, inplace=True)
    return conforms, report


def _results(report: Graph) -> set[ResultKey]:
    """The report's top-level results (not the sh:detail results nested under an sh:node failure)."""
    return {
        (report.value(r, SH.focusNode), _path_key(report, report.value(r, SH.resultPath)),
         report.value(r, SH.resultSeverity), report.value(r, SH.sourceShape))
        for r in report.objects(None, SH.result)
    }


def test_base_study_conforms_with_no_results() -> None:
    """The base fixture is the mapping's output shape for a small study: no violation, no warning."""
    conforms, report = _validate(Graph().parse(CASES / "study.ttl", format="turtle"))
    assert conforms
    assert _results(report) == set()


@pytest.mark.parametrize("case", VALID, ids=lambda c: c.id)
def test_valid_case_gives_no_results(case: Case) -> None:
    conforms, report = _validate(_apply(case.path))
    assert _results(report) == set()
    assert conforms


@pytest.mark.parametrize("case", INVALID, ids=lambda c: c.id)
def test_invalid_case_gives_exactly_the_expected_results(case: Case) -> None:
    assert case.expected, f"{case.id} lists no '# expect:' line"
    conforms, report = _validate(_apply(case.path))
    assert _results(report) == case.expected
    only_warnings = all(severity == SH.Warning for _, _, severity, _ in case.expected)
    assert conforms == only_warnings
    messages = {str(m) for m in report.objects(None, SH.resultMessage)}
    for message in case.messages:
        assert message in messages


@pytest.mark.parametrize("shape_file", shape_files())
def test_every_shape_file_has_invalid_cases_for_its_own_shapes(shape_file: str) -> None:
    """Each shape file has a folder of failing cases, and each of them expects a shape of that file."""
    folder = CASES / "invalid" / shape_file.removesuffix(".ttl")
    cases = [c for c in INVALID if c.path.parent == folder]
    assert cases, f"no invalid cases in {folder}"
    own_shapes = set(Graph().parse(Path(__file__).parents[2] / "ontology" / "shapes" / shape_file).subjects())
    for case in cases:
        assert any(shape in own_shapes for _, _, _, shape in case.expected), case.id


def test_excerpt_offset_message_names_the_offsets() -> None:
    """The quote check's message is filled from the query: offsets 64 and 119 of excerpt 1 (cases/study.ttl)."""
    data = _apply(CASES / "invalid" / "excerpts" / "05_quote_does_not_match.ttl")
    _, report = _validate(data)
    (result,) = report.objects(None, SH.result)
    assert report.value(result, SH.value) == URIRef(
        "https://w3id.org/qualkg/id/study/pod-demo/synthetic/excerpt/9a242ba966b7c594")
    assert report.value(result, SH.resultMessage) == Literal(
        "An excerpt's text must be exactly the transcript text between its start and end offsets "
        "(offsets 64 to 119).")
