"""The Cypher twins of the named questions: `queries/cypher/<id>.cypher`, run on the Neo4j projection.

A twin answers its `.rq` question with the same parameters (checked by `Catalog.bind`, passed as Cypher
parameters, null when unset) and the same columns. Its `//+` YAML header holds `id`, `lists` (column →
GROUP_CONCAT separator), `sampled` (columns that are SAMPLE() in SPARQL) and `note` (decision 0041).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import yaml
from neo4j import Driver, Query, RoutingControl

from qualkg.queries.catalog import Catalog, TwinCatalog, answer_frame, load_by_id
from qualkg.store.base import QueryError
from qualkg.store.terms import to_python


@dataclass(frozen=True)
class Twin:
    id: str
    cypher: str = field(repr=False)
    lists: dict[str, str] = field(default_factory=dict)  # column → GROUP_CONCAT separator
    sampled: tuple[str, ...] = ()


def parse_twin(text: str, source: str) -> Twin:
    """Split a .cypher file into its `//+` YAML header and the query."""
    header = "\n".join(line[4:] if line.startswith("//+ ") else line[3:]
                       for line in text.splitlines() if line.startswith("//+"))
    meta = yaml.safe_load(header) or {}
    unknown = set(meta) - {"id", "lists", "sampled", "note"}
    if "id" not in meta or unknown:
        raise ValueError(f"{source}: a twin header needs 'id' and knows only lists, sampled, note (got {sorted(meta)})")
    return Twin(str(meta["id"]), text, dict(meta.get("lists") or {}), tuple(meta.get("sampled") or ()))


def load_twins() -> dict[str, Twin]:
    """Every .cypher file under queries/cypher, by id."""
    return load_by_id("cypher", ".cypher", parse_twin)


class CypherCatalog(TwinCatalog[Twin]):
    """Runs the named questions on Neo4j: same checks as the SPARQL catalog, same DataFrame columns."""

    engine = "Cypher"

    def parameters(self, qid: str, raw: Mapping[str, str | None]) -> dict[str, Any]:
        """Checked parameter values as Cypher parameters; every declared parameter present (null when unset)."""
        bound = self.catalog.bind(qid, raw)
        return {p.name: to_python(bound.get(p.name)) for p in self.catalog.get(qid).params}

    def run(self, driver: Driver, qid: str, raw: Mapping[str, str | None], limit: int | None = None,
            offset: int = 0, *, database: str | None = None, timeout_s: float | None = None,
            records: bool = False) -> pd.DataFrame:
        """Run a question's twin; a DataFrame with the columns the question declares (the hidden record
        columns, as `Catalog.run` gives them, only with `records`)."""
        question = self.catalog.get(qid)
        twin = self.twin(qid)
        params = self.parameters(qid, raw)
        text = twin.cypher
        if question.paged and limit is not None:
            text += "\nSKIP $_offset LIMIT $_limit"
            params |= {"_offset": max(0, int(offset)), "_limit": int(limit)}
        values, keys = driver.execute_query(Query(text, timeout=timeout_s), params, database_=database,
                                            routing_=RoutingControl.READ,
                                            result_transformer_=lambda r: (r.values(), r.keys()))
        expected = [c.name for c in question.columns]
        if list(keys) != expected:
            raise QueryError(f"{qid}.cypher returns {list(keys)}, the question declares {expected}")
        df = pd.DataFrame(values, columns=expected)
        for column, sep in twin.lists.items():
            df[column] = [None if v is None else sep.join(sorted(v)) for v in df[column]]
        return answer_frame(question, df, records=records)


def default_cypher_catalog(catalog: Catalog) -> CypherCatalog:
    return CypherCatalog(catalog, load_twins())
