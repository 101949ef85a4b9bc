"""REFI-QDA sets are not read, but a set that contains itself, through any chain of Member* references, is
refused (decision 0035).
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element

from qualkg.ingest.readers.refi.document import Document, guid, locate, target


def check_sets(doc: Document) -> None:
    """One error per member reference that closes a cycle of sets, located at the set that holds it."""
    sets_el = doc.root.find("Sets")
    if sets_el is None:
        return
    sets = {guid(doc, el): el for el in sets_el.iter("Set")}
    members: dict[str, list[tuple[str, Element]]] = {}
    for sid, el in sets.items():
        for member in el:
            tid = target(member) if member.tag.startswith("Member") else None
            if tid in sets:
                members.setdefault(sid, []).append((tid, member))
    for sid, member, cycle in _cycles(sets, members):
        names = [sets[s].get("name") or s for s in cycle]
        doc.error("set-cycle", "The set contains itself, through the member sets the value lists; a set's "
                  "members must not lead back to it.", element=locate(sets[sid]), field=f"{member.tag}/@targetGUID",
                  value=" → ".join(names))


def _cycles(sets: dict[str, Element],
            members: dict[str, list[tuple[str, Element]]]) -> Iterator[tuple[str, Element, list[str]]]:
    """(set, member reference, the cycle it closes) for every back edge, by an iterative depth-first walk."""
    state: dict[str, int] = {}  # absent: not seen; 1: on the current path; 2: done
    for start in sets:
        if start in state:
            continue
        path, stack = [start], [iter(members.get(start, []))]
        state[start] = 1
        while stack:
            step = next(stack[-1], None)
            if step is None:
                state[path.pop()] = 2
                stack.pop()
                continue
            tid, member = step
            if state.get(tid) == 1:
                yield path[-1], member, [*path[path.index(tid):], tid]
            elif tid not in state:
                state[tid] = 1
                path.append(tid)
                stack.append(iter(members.get(tid, [])))
