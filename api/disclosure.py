"""Disclosure control for callers without the `excerpts` scope: cell-key perturbation (decision 0070, which
supersedes the secondary suppression of decision 0010; docs/security.md).

Every record a count about persons counts — an excerpt, a participant, an event, a team, a pair of
co-occurring excerpts — has a record key: a keyed hash (BLAKE2b, the server's secret) of its IRI, 64 bits.
A cell's key is the sum of its records' keys modulo 2**64; the question lists each cell's records in a
hidden column that no answer publishes. The published value of a count c is

    0            when c = 0 (an empty cell discloses nobody),
    null         when 0 < c < k, or when c + noise < k,
    c + noise    otherwise, noise = PTABLE looked up by the top 16 bits of the cell key.

The same set of records has the same key and so the same noise in every answer, whatever question,
parameters, engine or format asked for it: repeating a question or asking it another way gives the same
numbers, never fresh noise to average away. A total minus its visible parts gives the hidden part plus the
noise of every cell involved. Without the secret nobody can tell a cell's key from its records.

Derived columns (the c-coefficient) are computed again from the published counts, so they are hidden
whenever an input is; presence columns are kept (whether a count is zero is never changed). Answers
ordered by a count are ordered again by the published counts, since the order of the exact ones would
tell them apart.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from qualkg.queries.catalog import Question
from qualkg.queries.numeric import order_by

log = logging.getLogger(__name__)

KEY_BITS = 64
KEY_MOD = 1 << KEY_BITS
PTABLE_BITS = 16  # the perturbation table's resolution: noise is looked up by the cell key's top 16 bits
# noise → its weight out of 2**16 (probability): zero mean, variance 1.11, |noise| ≤ 4.
PTABLE: tuple[tuple[int, int], ...] = (
    (-4, 197), (-3, 786), (-2, 3604), (-1, 11796), (0, 32770), (1, 11796), (2, 3604), (3, 786), (4, 197))
MAX_NOISE = max(abs(n) for n, _ in PTABLE)
_BOUNDS = tuple(np.cumsum([w for _, w in PTABLE]).tolist())  # cumulative weights: the lookup table
assert _BOUNDS[-1] == 1 << PTABLE_BITS, "the perturbation table's weights must add up to 2**16"
SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class Disclosed:
    frame: pd.DataFrame
    suppressed: int  # how many non-zero counts are null
    text_removed: bool
    perturbed: bool = False  # whether the answer holds counts about persons (each perturbed)


@lru_cache(maxsize=1 << 20)
def _record_key(secret: bytes, record: str) -> int:
    return int.from_bytes(hashlib.blake2b(record.encode(), key=secret, digest_size=KEY_BITS // 8).digest(), "big")


class CellKeys:
    """Record keys and cell keys under one secret, and the published value of a count."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the cell-key secret needs at least 16 bytes")
        self._secret = secret[:64]  # BLAKE2b takes a key of at most 64 bytes

    def __repr__(self) -> str:
        return "CellKeys(<secret>)"  # the secret is never shown

    def record_key(self, record: str) -> int:
        return _record_key(self._secret, record)

    def cell_key(self, records: Iterable[str]) -> int:
        """The sum of the distinct records' keys modulo 2**64."""
        return sum(self.record_key(r) for r in set(records)) % KEY_MOD

    def publish(self, count: int, records: Iterable[str], k: int) -> int | None:
        return perturb(count, self.cell_key(records), k)


def noise(cell_key: int) -> int:
    """The perturbation table's noise for a cell key."""
    return PTABLE[bisect.bisect_right(_BOUNDS, cell_key >> (KEY_BITS - PTABLE_BITS))][0]


def perturb(count: int, cell_key: int, k: int) -> int | None:
    """The published value of a count about persons (module doc): never a value in 1 … k − 1."""
    if count <= 0:
        return 0
    if count < k:
        return None
    published = count + noise(cell_key)
    return published if published >= k else None


def load_or_create_secret(path: Path) -> bytes:
    """The secret kept in `path`, made (random, readable by its owner only) when the file does not exist.
    Keep it outside the graph and off the published API: whoever holds it can tell cells' keys."""
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(SECRET_BYTES)
    with path.open("x", encoding="ascii") as f:  # a second process making it at once fails here, not silently
        path.chmod(0o600)
        f.write(secret.hex() + "\n")
    return secret


def configured_keys(config: object) -> CellKeys | None:
    """Keys under the secret an ApiConfig names: `cell_key_secret` (hex text, bytes or a pydantic SecretStr)
    or `cell_key_file` (load_or_create_secret); None when it names neither."""
    secret = getattr(config, "cell_key_secret", None)
    if secret is not None and hasattr(secret, "get_secret_value"):
        secret = secret.get_secret_value()
    if isinstance(secret, str) and secret:
        return CellKeys(bytes.fromhex(secret))
    if isinstance(secret, bytes) and secret:
        return CellKeys(secret)
    path = getattr(config, "cell_key_file", None)
    return CellKeys(load_or_create_secret(Path(path))) if path else None


def ephemeral_keys() -> CellKeys:
    """Keys under a random secret: consistent while they live (one app), but a restart gives every count
    fresh noise, which a patient caller could average. Configure a kept secret instead (configured_keys)."""
    log.warning("no cell-key secret configured: counts are perturbed under a secret that changes with every "
                "start of the server")
    return CellKeys(secrets.token_bytes(SECRET_BYTES))


def _records(value: object) -> list[str]:
    return value.split() if isinstance(value, str) else []


def _published_counts(df: pd.DataFrame, question: Question, keys: CellKeys | None, k: int) -> tuple[dict, int]:
    """Each count column about persons as published, and how many non-zero counts became null."""
    out: dict[str, list[int | None]] = {}
    hidden = 0
    for col in question.columns:
        if not col.about_persons or col.name not in df.columns:
            continue
        counts = [0 if v is None or pd.isna(v) else int(v) for v in df[col.name]]
        if keys is None or col.records is None or col.records not in df.columns:
            values: list[int | None] = [0 if c == 0 else None for c in counts]  # no records: fail closed
        else:
            values = [perturb(c, keys.cell_key(_records(r)), k) if c else 0
                      for c, r in zip(counts, df[col.records], strict=True)]
        out[col.name] = values
        hidden += sum(1 for c, v in zip(counts, values, strict=True) if c and v is None)
    return out, hidden


def disclose(df: pd.DataFrame, question: Question, *, may_read_excerpts: bool, k: int,
             keys: CellKeys | None = None) -> Disclosed:
    """The answer as a caller may see it. Without 'excerpts': text removed, counts about persons perturbed
    (module doc; `keys` None or a frame without its record columns: every non-zero count hidden), derived
    columns computed again, rows ordered by published counts; hidden record columns never shown."""
    hidden_cols = [c.name for c in question.columns if c.hidden and c.name in df.columns]
    if may_read_excerpts:
        return Disclosed(df.drop(columns=hidden_cols) if hidden_cols else df, 0, False)
    text_cols = [c.name for c in question.columns if c.text and c.name in df.columns]
    published, suppressed = _published_counts(df, question, keys, k)
    out = df.drop(columns=text_cols + hidden_cols).astype(object)
    for name, values in published.items():
        out[name] = pd.Series(values, index=out.index, dtype=object)
    derive(out, question)
    out = reorder(out, question)
    return Disclosed(out, suppressed, bool(text_cols), bool(published))


@cache
def _order(sparql: str) -> tuple[tuple[str, bool], ...]:
    return tuple(order_by(sparql))


def reorder(out: pd.DataFrame, question: Question) -> pd.DataFrame:
    """Rows in the question's order, by the published values, when the question orders by a count about
    persons (the exact order would rank cells the perturbation made equal or hid); nulls last, and the
    other columns break ties, so that nothing of the exact order is left."""
    keys = [(c, desc) for c, desc in _order(question.sparql) if c in out.columns]
    persons = {c.name for c in question.columns if c.about_persons}
    if out.empty or not any(c in persons for c, _ in keys):
        return out
    keys += [(str(c), False) for c in out.columns if c not in {n for n, _ in keys}]
    rows = out.to_dict("records")
    ranked = sorted(range(len(rows)), key=lambda i: tuple(_sort_key(rows[i][c], desc) for c, desc in keys))
    return out.iloc[ranked].reset_index(drop=True)


class _Reversed(str):
    __slots__ = ()

    def __lt__(self, other: str) -> bool:
        return str.__gt__(self, other)


def _sort_key(value: object, descending: bool) -> tuple[int, float, str]:
    number = _number(value)
    if number is not None:
        return 0, -number if descending else number, ""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 1, 0.0, ""
    text = str(value)
    return 0, 0.0, _Reversed(text) if descending else text


def _number(value: object) -> float | None:
    """A published count as a float; None for a hidden (null) one."""
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return None if math.isnan(value) else float(value)
    return None


def c_coefficient(n12: object, n1: object, n2: object) -> float | None:
    """ATLAS.ti's c = n12 / (n1 + n2 − n12), to 3 places, from published counts; None when one is hidden."""
    both, a, b = _number(n12), _number(n1), _number(n2)
    if both is None or a is None or b is None or a + b - both <= 0:
        return None
    return round(min(1.0, max(0.0, both / (a + b - both))), 3)


def derive(out: pd.DataFrame, question: Question) -> None:
    """Compute each derived column again from the published values of its inputs, in place: a statistic of
    a hidden count is hidden too, and never gives the count back (n12 from c, n1 and n2).

    `presence` columns ("both", "peers only" …) are kept: they say only whether their inputs are zero, and
    disclosure control never changes whether a count is zero."""
    for col in question.columns:
        if col.derived is None or col.name not in out.columns or col.derived.formula == "presence":
            continue
        inputs = [out[name] if name in out.columns else pd.Series([None] * len(out), index=out.index)
                  for name in col.derived.of]
        out[col.name] = pd.Series([c_coefficient(*row) for row in zip(*inputs, strict=True)],
                                  index=out.index, dtype=object)
