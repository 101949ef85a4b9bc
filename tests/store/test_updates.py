"""store.updates.change_update: a replace writes only what changed, and whole graphs with blank nodes.

Fixture: `people()` of tests/store/cases.py (alice label + age, bob label). Expected parts are
read off by hand: replacing it with [alice label, carol label] removes alice's age and bob's
label and adds carol's label; alice's label stays and is written by neither part.
"""

from __future__ import annotations

import pytest
from pyoxigraph import BlankNode, Literal, RdfFormat, Triple, serialize

from qualkg.store.oxigraph import OxigraphStore
from qualkg.store.updates import change_update
from tests.store.cases import G1, G2, LABEL, ex, people

CAROL = Triple(ex("carol"), LABEL, Literal("Carol"))


def nt(triples: list[Triple] | set[Triple]) -> str:
    """N-Triples text as the store writes it (what change_update compares)."""
    return serialize(triples, format=RdfFormat.N_TRIPLES).decode()


def _parts(update: str) -> tuple[str, str]:
    """(everything before INSERT DATA, the INSERT DATA part)."""
    head, _, insert = update.partition("INSERT DATA")
    return head, insert


def test_unchanged_graphs_need_no_update() -> None:
    old = {G1: nt(people()), G2: nt(people()[:1])}
    assert change_update(old, {G1: nt(people()[::-1]), G2: nt(people()[:1])}) is None


def test_changed_graph_deletes_what_went_and_inserts_what_came() -> None:
    update = change_update({G1: nt(people())}, {G1: nt([people()[0], CAROL])})
    assert update is not None
    head, insert = _parts(update)
    assert "DROP" not in head
    assert '"42"' in head and '"Bob"' in head and '"Alice"' not in head
    assert '"Carol"' in insert and '"Alice"' not in insert


def test_new_graph_beside_an_old_one_is_only_inserted() -> None:
    update = change_update({G1: nt(people()), G2: ""}, {G1: nt(people()), G2: nt([CAROL])})
    assert update is not None
    head, insert = _parts(update)
    assert head == "" and f"<{G2}>" in insert and f"<{G1}>" not in insert


@pytest.mark.parametrize("where", ["old", "new"])
def test_a_graph_with_a_blank_node_is_dropped_and_inserted_whole(where: str) -> None:
    blank = Triple(BlankNode(), LABEL, Literal("anonymous"))
    old, new = set(people()), list(people())
    if where == "old":
        old.add(blank)
    else:
        new.append(blank)
    update = change_update({G1: nt(old)}, {G1: nt(new)})
    assert update is not None
    head, insert = _parts(update)
    assert head.startswith(f"DROP SILENT GRAPH <{G1}>") and "DELETE DATA" not in head
    assert all(f'"{name}"' in insert for name in ("Alice", "42", "Bob"))


def test_replacing_a_blank_node_graph_twice_keeps_one_copy() -> None:
    """Two triples with one blank node each, written twice: still two (the old blank nodes went)."""
    store = OxigraphStore()
    triples = [Triple(BlankNode(), LABEL, Literal("a")), Triple(BlankNode(), LABEL, Literal("b"))]
    assert store.replace_graph(G1, triples) == 2
    assert store.replace_graph(G1, triples) == 2
