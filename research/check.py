"""The anonymity check: measures a finished package from its files alone, trusting nothing
the export pipeline computed, and says whether it may be released.

It reads ``datapackage.json`` and streams each resource's CSV with the csv module:

- a microdata resource: k, the smallest group of records sharing the values of every field
  whose schema descriptor has ``"role": "quasi"`` (with no such field, all records are one
  group), and l, the smallest number of distinct values of a ``"sensitive"`` field within a
  group. Values are compared as written; an empty cell (missing) is a value like any other.
- an aggregate resource (``"aggregate": {"count": ..., "row": ..., "column": ...}``): no
  shown count from 1 to ``min_cell - 1``, no hidden cell with its count or measures written,
  no row or column (totals included) with exactly one hidden cell, and no hidden cell that
  could be worked out from the row and column equations (one that lies on no cycle of hidden
  cells). A cell the file does not list counts 0 and is shown.

Problems are short English codes for the report and the operator's log. Anything unreadable
fails: a package is released only when it was measured.
"""

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Column of an aggregate CSV saying whether the cell is hidden ("1") or shown ("0").
SUPPRESSED = "suppressed"


@dataclass
class Measure:
    resource: str
    #: Records (microdata) or cells (aggregate) read.
    records: int
    #: Smallest group over the quasi fields (None: aggregate, or no records).
    k: int | None
    #: Smallest distinct sensitive values in a group (None: no sensitive field, or no records).
    l: int | None  # noqa: E741 - the name the literature gives it
    passed: bool
    problems: list[str] = field(default_factory=list)


class _Unreadable(Exception):
    """A resource that cannot be measured; its argument is the problem's code."""


def check_package(directory: Path, k: int, l: int, min_cell: int) -> list[Measure]:  # noqa: E741
    """Measure every resource of the package in ``directory`` against k, l and min_cell."""
    try:
        descriptor = json.loads((directory / "datapackage.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [Measure("datapackage", 0, None, None, False, ["datapackage-unreadable"])]
    resources = descriptor.get("resources") if isinstance(descriptor, dict) else None
    if not isinstance(resources, list) or not resources:
        return [Measure("datapackage", 0, None, None, False, ["no-resources"])]
    return [_check_resource(directory, resource, k, l, min_cell) for resource in resources]


def _check_resource(directory: Path, resource: Any, k: int, l: int, min_cell: int) -> Measure:  # noqa: E741
    name = str(resource.get("name") or resource.get("path")) if isinstance(resource, dict) else "?"
    try:
        if not isinstance(resource, dict):
            raise _Unreadable("bad-resource")
        path = _inside(directory, resource.get("path"))
        if path.suffix.lower() != ".csv":
            # Every released table must be measured: a resource that is not a CSV cannot be.
            raise _Unreadable("not-csv")
        fields = _fields(directory, resource.get("schema"))
        aggregate = resource.get("aggregate")
        with path.open(newline="", encoding="utf-8-sig") as stream:
            reader = csv.reader(stream)
            header = next(reader, None)
            if header is None:
                raise _Unreadable("no-header")
            if aggregate is not None:
                return _check_aggregate(name, header, reader, aggregate, min_cell)
            return _check_microdata(name, header, reader, fields, k, l)
    except _Unreadable as problem:
        return Measure(name, 0, None, None, False, [problem.args[0]])
    except (OSError, UnicodeError, csv.Error):
        return Measure(name, 0, None, None, False, ["unreadable"])


def _inside(directory: Path, relative: Any) -> Path:
    """A resource's file, which must lie inside the package."""
    if not isinstance(relative, str) or not relative:
        raise _Unreadable("bad-path")
    root = directory.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise _Unreadable("bad-path")
    if not path.is_file():
        raise _Unreadable("missing-file")
    return path


def _fields(directory: Path, schema: Any) -> list[dict]:
    if isinstance(schema, str):
        try:
            schema = json.loads(_inside(directory, schema).read_text(encoding="utf-8"))
        except ValueError as error:
            raise _Unreadable("bad-schema") from error
    fields = schema.get("fields") if isinstance(schema, dict) else None
    if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
        raise _Unreadable("bad-schema")
    return fields


def _columns(header: list[str], names: list[str]) -> list[int]:
    missing = [n for n in names if n not in header]
    if missing:
        raise _Unreadable(f"field-missing:{missing[0]}")
    return [header.index(n) for n in names]


def _cell(row: list[str], index: int) -> str:
    return row[index] if index < len(row) else ""


def _check_microdata(
    name: str,
    header: list[str],
    reader: Any,
    fields: list[dict],
    required_k: int,
    required_l: int,
) -> Measure:
    quasi = _columns(header, [str(f.get("name")) for f in fields if f.get("role") == "quasi"])
    sensitive = _columns(
        header, [str(f.get("name")) for f in fields if f.get("role") == "sensitive"]
    )
    groups: Counter[tuple] = Counter()
    # Per group, the distinct values of each sensitive field: bounded by the distinct
    # combinations in the file, not by its records.
    values: dict[tuple, list[set[str]]] = {}
    records = 0
    for row in reader:
        if not row:
            continue
        records += 1
        key = tuple(_cell(row, i) for i in quasi)
        groups[key] += 1
        if sensitive:
            seen = values.setdefault(key, [set() for _s in sensitive])
            for distinct, i in zip(seen, sensitive, strict=True):
                distinct.add(_cell(row, i))
    k = min(groups.values()) if records else None
    l = None  # noqa: E741
    if sensitive and records:
        l = min(min(len(s) for s in seen) for seen in values.values())  # noqa: E741
    problems = []
    if k is not None and k < required_k:
        problems.append(f"k={k}<{required_k}")
    if l is not None and l < required_l:
        problems.append(f"l={l}<{required_l}")
    return Measure(name, records, k, l, not problems, problems)


def _check_aggregate(
    name: str, header: list[str], reader: Any, aggregate: Any, min_cell: int
) -> Measure:
    if not isinstance(aggregate, dict):
        raise _Unreadable("bad-aggregate")
    row_at, column_at, count_at = _columns(
        header, [str(aggregate.get(p)) for p in ("row", "column", "count")]
    )
    suppressed_at = header.index(SUPPRESSED) if SUPPRESSED in header else None
    keys = {row_at, column_at, suppressed_at}
    problems: list[str] = []

    def problem(code: str) -> None:
        if code not in problems:
            problems.append(code)

    hidden: dict[tuple[str, str], bool] = {}
    for row in reader:
        if not row:
            continue
        key = (_cell(row, row_at), _cell(row, column_at))
        if key in hidden:
            problem("duplicate-cell")
        count = _cell(row, count_at).strip()
        flagged = suppressed_at is not None and _cell(row, suppressed_at).strip() == "1"
        hidden[key] = flagged or not count
        if hidden[key]:
            # A hidden cell writes neither its count nor its measures.
            if any(_cell(row, i) for i in range(len(row)) if i not in keys):
                problem("hidden-value-shown")
            continue
        try:
            shown = int(count)
        except ValueError:
            problem("count-not-integer")
            continue
        if shown < 0:
            problem("count-negative")
        elif 0 < shown < min_cell:
            problem("cell-below-min")
    for code in _recomputable([key for key, is_hidden in hidden.items() if is_hidden]):
        problem(code)
    return Measure(name, len(hidden), None, None, not problems, problems)


def _recomputable(hidden: list[tuple[str, str]]) -> list[str]:
    """Codes for hidden cells an attacker could solve for from the shown cells and totals.

    Each row and each column (totals included) is an additive equation; hidden cells are the
    unknowns, linking their row to their column. A cell can be solved for exactly when no
    cycle of hidden cells passes through it: with one, the counts along it could all move
    by +d and -d in turn without changing any shown number.
    """
    codes = []
    rows = Counter(r for r, _c in hidden)
    columns = Counter(c for _r, c in hidden)
    if any(n == 1 for n in rows.values()):
        codes.append("single-hidden-in-row")
    if any(n == 1 for n in columns.values()):
        codes.append("single-hidden-in-column")
    links: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for r, c in hidden:
        links.setdefault(("row", r), set()).add(("column", c))
        links.setdefault(("column", c), set()).add(("row", r))
    for r, c in hidden:
        # Is the column still reachable from the row without this cell?
        start, goal = ("row", r), ("column", c)
        seen = {start}
        todo = [start]
        found = False
        while todo and not found:
            vertex = todo.pop()
            for nxt in links[vertex]:
                if {vertex, nxt} == {start, goal} or nxt in seen:
                    continue
                if nxt == goal:
                    found = True
                    break
                seen.add(nxt)
                todo.append(nxt)
        if not found:
            codes.append("hidden-recomputable")
            break
    return codes
