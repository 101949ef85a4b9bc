"""Which result columns of a SPARQL query are numbers, or fed by a count, read from its text (not parsed):
the catalog refuses a question that leaves one undeclared (decision 0070); columns bound by a triple
pattern are checked on each answer by `Catalog.run`.
"""

from __future__ import annotations

import re

# Comments, strings and IRIs are cut first: their text is never syntax.
_CUT = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
                  r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*')
_TOKEN = re.compile(r"[?$][A-Za-z0-9_]+|[A-Za-z_][\w.-]*:[\w.-]*|[A-Za-z_]\w*|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?"
                    r"|&&|\|\||!=|<=|>=|\^\^|\S")
NUMERIC_FUNCTIONS = frozenset({"COUNT", "SUM", "AVG", "ROUND", "ABS", "CEIL", "FLOOR", "STRLEN", "RAND", "YEAR",
                               "MONTH", "DAY", "HOURS", "MINUTES", "SECONDS"})
COUNTING = frozenset({"COUNT", "SUM", "AVG"})  # aggregates that count or add up rows
_PASSING = frozenset({"MIN", "MAX", "SAMPLE", "COALESCE"})  # numeric when an argument is
_COMPARISONS = frozenset({"=", "!=", "<", ">", "<=", ">=", "&&", "||", "!", "IN", "NOT"})
_ARITHMETIC = frozenset({"+", "-", "*", "/"})
_OPEN, _CLOSE = {"(": ")", "{": "}", "[": "]"}, {")", "}", "]"}


def tokens(sparql: str) -> list[str]:
    """The query's tokens, with comments, strings (as `""`) and IRIs (as `<>`) cut."""
    def cut(m: re.Match[str]) -> str:
        text = m.group(0)
        return " " if text.startswith("#") else ' "" ' if text[0] in "\"'" else " <> "
    return _TOKEN.findall(_CUT.sub(cut, sparql))


def _closing(toks: list[str], i: int) -> int:
    """The index of the bracket that closes the one at `i`."""
    depth = 0
    for j in range(i, len(toks)):
        if toks[j] in _OPEN:
            depth += 1
        elif toks[j] in _CLOSE:
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1


def _top_level(expr: list[str]) -> list[str]:
    """The tokens of `expr` outside any bracket."""
    out, depth = [], 0
    for t in expr:
        if t in _OPEN:
            depth += 1
        elif t in _CLOSE:
            depth -= 1
        elif depth == 0:
            out.append(t)
    return out


def _arguments(expr: list[str]) -> list[list[str]]:
    """The comma-separated arguments of a call `NAME ( … )`."""
    args: list[list[str]] = [[]]
    depth = 0
    for t in expr[2:-1]:
        if t in _OPEN:
            depth += 1
        elif t in _CLOSE:
            depth -= 1
        if t in {",", ";"} and depth == 0:
            args.append([])
        else:
            args[-1].append(t)
    return args


def _strip(expr: list[str]) -> list[str]:
    while len(expr) >= 2 and expr[0] == "(" and _closing(expr, 0) == len(expr) - 1:
        expr = expr[1:-1]
    return expr


def is_numeric(expr: list[str], numeric_vars: set[str]) -> bool:
    """Whether the expression's value is a number, by its outermost operator, function or term."""
    expr = _strip(expr)
    if not expr:
        return False
    top = _top_level(expr)
    if any(t.upper() in _COMPARISONS for t in top):
        return False
    if any(t in _ARITHMETIC for t in top[1:]) or (len(top) > 1 and top[0] in {"-", "+"}):
        return True
    head = expr[0]
    if len(expr) == 1:
        return head in numeric_vars or head[0].isdigit()
    name = head.upper()
    if expr[1] != "(":
        return False
    if name in NUMERIC_FUNCTIONS:
        return True
    args = [a for a in _arguments(expr) if a and a[0].upper() not in {"DISTINCT", "SEPARATOR"}]
    if name in _PASSING:
        return any(is_numeric(a, numeric_vars) for a in args)
    if name == "IF":
        return any(is_numeric(a, numeric_vars) for a in args[1:3])
    return False


def bindings(toks: list[str]) -> list[tuple[str, list[str]]]:
    """Every `(expression AS ?v)` and `BIND(expression AS ?v)`: the variable and the expression's tokens."""
    out = []
    for i, t in enumerate(toks):
        if t.upper() == "AS" and i + 1 < len(toks) and toks[i + 1][0] in "?$":
            start, depth = i - 1, 0
            while start >= 0:
                if toks[start] in _CLOSE:
                    depth += 1
                elif toks[start] in _OPEN:
                    if depth == 0:
                        break
                    depth -= 1
                start -= 1
            out.append((toks[i + 1][1:], toks[start + 1:i]))
    return out


def _counted(toks: list[str], counted_vars: set[str]) -> bool:
    """Whether a counting aggregate, or a variable bound by one, feeds the expression."""
    for k, t in enumerate(toks):
        if t.upper() in COUNTING and k + 1 < len(toks) and toks[k + 1] == "(":
            return True
        if t[0] in "?$" and t[1:] in counted_vars:
            return True
    return False


def typed_variables(sparql: str) -> tuple[set[str], set[str]]:
    """(numeric variables, variables a counting aggregate feeds), over every binding of the query."""
    found = bindings(tokens(sparql))
    numeric: set[str] = set()
    counted: set[str] = set()
    changed = True
    while changed:
        changed = False
        for var, expr in found:
            if var not in numeric and is_numeric(expr, {f"?{v}" for v in numeric} | {f"${v}" for v in numeric}):
                numeric.add(var)
                changed = True
            if var not in counted and _counted(expr, counted):
                counted.add(var)
                changed = True
    return numeric, counted


def projected(sparql: str) -> list[str]:
    """The outer SELECT's result variables, in order (empty for SELECT * or another query form)."""
    toks = tokens(sparql)
    try:
        i = next(k for k, t in enumerate(toks) if t.upper() == "SELECT") + 1
    except StopIteration:
        return []
    out = []
    while i < len(toks) and toks[i].upper() not in {"WHERE", "{", "FROM"}:
        if toks[i] == "(":
            end = _closing(toks, i)
            out.append(toks[end - 1][1:])
            i = end + 1
            continue
        if toks[i][0] in "?$":
            out.append(toks[i][1:])
        i += 1
    return out


def count_like_columns(sparql: str) -> list[str]:
    """The outer SELECT's columns that are numbers or that a count feeds: each must be declared."""
    numeric, counted = typed_variables(sparql)
    return [v for v in projected(sparql) if v in numeric or v in counted]


def order_by(sparql: str) -> list[tuple[str, bool]]:
    """The outer query's ORDER BY as (variable, descending) pairs; a key that is not a plain variable
    (an expression) is left out."""
    toks = tokens(sparql)
    depth, start = 0, None
    for k, t in enumerate(toks):
        if t in _OPEN:
            depth += 1
        elif t in _CLOSE:
            depth -= 1
        elif depth == 0 and t.upper() == "ORDER" and k + 1 < len(toks) and toks[k + 1].upper() == "BY":
            start = k + 2
    if start is None:
        return []
    keys: list[tuple[str, bool]] = []
    k = start
    while k < len(toks) and toks[k].upper() not in {"LIMIT", "OFFSET", "VALUES", "}"}:
        t = toks[k]
        if t.upper() in {"ASC", "DESC"} and k + 3 < len(toks) and toks[k + 1] == "(" and toks[k + 3] == ")":
            if toks[k + 2][0] in "?$":
                keys.append((toks[k + 2][1:], t.upper() == "DESC"))
            k += 4
            continue
        if t[0] in "?$":
            keys.append((t[1:], False))
        k += 1
    return keys
