"""Disclosure control for callers without `excerpts`: every count of records about persons is perturbed by
noise keyed on its records (record keys and weights from a keyed hash), null below k, 0 kept; derived
columns recomputed from the published counts. The method, its parameters and the attacks it answers:
decision 0070 (supersedes 0010's suppression) and docs/security.md.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from qualkg.queries.catalog import Question
from qualkg.queries.numeric import order_by

log = logging.getLogger(__name__)

KEY_BITS = 64
KEY_MOD = 1 << KEY_BITS
# The noise is two-sided geometric (discrete Laplace): P(n) = (1 − alpha)/(1 + alpha) · alpha^|n|, alpha = 1/3. Half the
# counts get 0, a third ±1, 1 in 9 ±2 …; variance 1.5. Its tails never end before the key's resolution
# (±40), so no published value rules out a true count near it, and the likelihood of any two neighbouring
# true counts differs by a factor of at most 3 (4 at the threshold k): a caller combining answers narrows a
# hidden cell down to probabilities, never to one value (decision 0070).
ALPHA = Fraction(1, 3)


def _table(alpha: Fraction) -> tuple[tuple[int, int], ...]:
    """The perturbation table: (noise, the first cell key above its range), every key in [0, 2**64)."""
    rows: list[tuple[int, int]] = []
    n = 0
    while alpha ** (n + 1) / (1 + alpha) * KEY_MOD >= 1:
        n += 1
    for noise in range(-n, n + 1):  # P(N ≤ noise), exactly, then scaled to the key space
        below = alpha ** -noise / (1 + alpha) if noise < 0 else 1 - alpha ** (noise + 1) / (1 + alpha)
        rows.append((noise, KEY_MOD if noise == n else int(below * KEY_MOD)))
    return tuple(rows)


PTABLE = _table(ALPHA)
MAX_NOISE = PTABLE[-1][0]  # the largest noise a cell can draw (its probability: about 2**-64)
_BOUNDS = tuple(upper for _, upper in PTABLE)


def noise_probability(n: int) -> float:
    """P(noise = n) under the table (the keys' share of its range)."""
    i = n + MAX_NOISE
    if not 0 <= i < len(PTABLE):
        return 0.0
    return (PTABLE[i][1] - (PTABLE[i - 1][1] if i else 0)) / KEY_MOD


SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class Disclosed:
    frame: pd.DataFrame
    suppressed: int  # how many non-zero counts are null
    text_removed: bool
    perturbed: bool = False  # whether the answer holds counts about persons (each perturbed)


@lru_cache(maxsize=1 << 20)
def _record(secret: bytes, record: str) -> tuple[int, int]:
    """(record key, record weight) of one record under one secret."""
    digest = hashlib.blake2b(record.encode(), key=secret, digest_size=KEY_BITS // 8 + 1).digest()
    bits = digest[-1]
    return int.from_bytes(digest[:-1], "big"), (bits & 1) + (bits >> 1 & 1)  # two fair bits: 0, 1, 2


class CellKeys:
    """Record keys and weights under one secret, and the published value of a count."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the cell-key secret needs at least 16 bytes")
        self._secret = secret[:64]  # BLAKE2b takes a key of at most 64 bytes

    def __repr__(self) -> str:
        return "CellKeys(<secret>)"  # the secret is never shown

    def record_key(self, record: str) -> int:
        return _record(self._secret, record)[0]

    def record_weight(self, record: str) -> int:
        return _record(self._secret, record)[1]

    def cell(self, records: Iterable[str]) -> tuple[int, int]:
        """(cell key, cell weight) of a set of records: the sums of the distinct records' keys (modulo 2**64)
        and weights."""
        key = weight = 0
        for r in set(records):
            k, w = _record(self._secret, r)
            key, weight = key + k, weight + w
        return key % KEY_MOD, weight

    def cell_key(self, records: Iterable[str]) -> int:
        return self.cell(records)[0]

    def publish(self, count: int, records: Iterable[str], k: int) -> int | None:
        return perturb(count, *self.cell(records), k)


def noise(cell_key: int) -> int:
    """The perturbation table's noise for a cell key."""
    return PTABLE[bisect.bisect_right(_BOUNDS, cell_key)][0]


def perturb(count: int, cell_key: int, weight: int, k: int) -> int | None:
    """The published value of a count about persons (module doc): never a value in 1 … k − 1."""
    if count <= 0:
        return 0
    if count < k:
        return None
    published = weight + noise(cell_key)
    return published if published >= k else None


def published_probability(published: int | None, count: int, k: int) -> float:
    """P(a count of `count` records is published as `published`) under the method: what any attacker's
    inference starts from."""
    if count <= 0:
        return float(published == 0)
    if count < k:
        return float(published is None)
    weights = [math.comb(2 * count, w) / 4 ** count for w in range(2 * count + 1)]
    if published is None:
        return sum(p * sum(noise_probability(n) for n in range(-MAX_NOISE, k - w)) for w, p in enumerate(weights))
    if published < k:
        return 0.0
    return sum(p * noise_probability(published - w) for w, p in enumerate(weights))


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
            values = [perturb(c, *keys.cell(_records(r)), k) if c else 0
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
