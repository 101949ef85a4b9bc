"""The SQL twins of the named questions: `queries/sql/<id>.sql`, run on the columnar projection (decision 0132).

A twin answers its `.rq` question with the same parameters (checked by `Catalog.bind`, passed as DuckDB
`$name` parameters, null when unset) and the same columns, in the same order. Its `--+` YAML header holds
`id`, `lists` (column → separator of a list cell, items sorted) and `note`; a paged twin has one `--PAGE`
line where its page is cut. The projection's tables come from `queries/sql/extract/` (`projection_spec`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import pandas as pd
import yaml

from qualkg.queries.catalog import Catalog, TwinCatalog, answer_frame, load_by_id
from qualkg.store.base import GraphStore, QueryError
from qualkg.store.columnar import Projection, Spec, parse_extract
from qualkg.store.terms import to_python

SQL_PAGE_MARKER = "--PAGE"


@dataclass(frozen=True)
class SqlTwin:
    id: str
    sql: str = field(repr=False)
    lists: dict[str, str] = field(default_factory=dict)

    def page(self, limit: int | None, offset: int = 0) -> str:
        """The text cut to one page at its `--PAGE` line (built from ints only); the whole answer without limit."""
        cut = "" if limit is None else f"LIMIT {int(limit)} OFFSET {max(0, int(offset))}"
        return self.sql.replace(SQL_PAGE_MARKER, cut)


def parse_sql_twin(text: str, source: str) -> SqlTwin:
    """Split a .sql file into its `--+` YAML header and the statement."""
    header = "\n".join(line[4:] if line.startswith("--+ ") else line[3:]
                       for line in text.splitlines() if line.startswith("--+"))
    meta = yaml.safe_load(header) or {}
    unknown = set(meta) - {"id", "lists", "note"}
    if "id" not in meta or unknown:
        raise ValueError(f"{source}: an SQL twin header needs 'id' and knows only lists, note (got {sorted(meta)})")
    return SqlTwin(str(meta["id"]), text, dict(meta.get("lists") or {}))


def load_sql_twins() -> dict[str, SqlTwin]:
    """Every .sql file under queries/sql, by id."""
    return load_by_id("sql", ".sql", parse_sql_twin)


def projection_spec() -> Spec:
    """What the projection holds: queries/sql/extract/*.rq (by file name), its schema.sql and derive.sql."""
    folder = files("qualkg.queries").joinpath("sql", "extract")
    extracts = [parse_extract(f.read_text(encoding="utf-8"), f.name)
                for f in sorted(folder.iterdir(), key=lambda f: f.name) if f.name.endswith(".rq")]
    return Spec(extracts, folder.joinpath("schema.sql").read_text(encoding="utf-8"),
                folder.joinpath("derive.sql").read_text(encoding="utf-8"))


class SqlCatalog(TwinCatalog[SqlTwin]):
    """Runs the named questions on the projection: same checks as the SPARQL catalog, same DataFrame columns."""

    engine = "SQL"

    def parameters(self, qid: str, raw: Mapping[str, str | None], store: GraphStore | None = None) -> dict[str, Any]:
        """Checked parameter values (given `store`, against its data too: `Catalog.bind`) as DuckDB parameters:
        the ones the twin uses, null when unset."""
        bound = self.catalog.bind(qid, raw, store)
        text = self.twins[qid].sql
        return {p.name: to_python(bound.get(p.name)) for p in self.catalog.get(qid).params
                if re.search(rf"\${p.name}\b", text)}

    def run(self, projection: Projection, qid: str, raw: Mapping[str, str | None], limit: int | None = None,
            offset: int = 0, *, records: bool = False, store: GraphStore | None = None) -> pd.DataFrame:
        """Run a question's twin; a DataFrame with the columns the question declares (the hidden record
        columns, as `Catalog.run` gives them, only with `records`). Values are checked against `store`'s data."""
        question = self.catalog.get(qid)
        text = self.twin(qid).page(limit if question.paged else None, offset)
        expected = [c.name for c in (question.columns if records else question.published)]
        if not records:  # the record lists are not computed at all: DuckDB drops the aggregates no one reads
            text = f"SELECT {', '.join(_quoted(c) for c in expected)} FROM ({text}) AS answer"
        df = projection.query(text, self.parameters(qid, raw, store))
        if list(df.columns) != expected:
            raise QueryError(f"{qid}.sql returns {list(df.columns)}, the question declares {expected}")
        return answer_frame(question, df, records=records)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def default_sql_catalog(catalog: Catalog) -> SqlCatalog:
    return SqlCatalog(catalog, load_sql_twins())
