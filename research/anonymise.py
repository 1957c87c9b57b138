"""k-anonymity and l-diversity for microdata: quasi-identifiers are generalised along their
hierarchies, level by level, until every released record shares its generalised
quasi-identifiers with at least k-1 others (and each such class shows at least l distinct
values of every sensitive variable); records that still fail are suppressed.

The table is read twice, as a stream: ``plan`` counts the records per combination of
quasi-identifiers at their finest precision and searches the levels without reading again;
``apply`` then writes the generalised rows. Memory grows with the number of distinct
combinations, never with the number of records.
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from i18n import _
from research.hierarchies import hierarchy_of
from research.table import Kind, Microdata, Role, Row, Variable

#: A label cache's "not computed yet" (None is a label: the missing value's).
_UNSEEN = object()

_PLAIN = frozenset({str, int, float, bool, type(None), date, datetime, Decimal})


def _hashable(value: Any) -> Any:
    """A sensitive value as a set member (a multiple-choice answer may come as a list)."""
    if type(value) in _PLAIN:
        # Written alike in the file, so counted alike here.
        return None if value == "" else value
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, set | frozenset):
        return frozenset(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), repr(v)) for k, v in value.items()))
    return value


@dataclass
class Plan:
    #: QUASI variable name → the level of its hierarchy applied.
    levels: dict[str, int]
    #: Generalised QUASI tuples whose records are dropped.
    suppressed: frozenset[tuple]
    #: Smallest class among released records (0 if none is released).
    k: int
    #: Smallest number of distinct values of a sensitive variable in a released class
    #: (None: the table has no SENSITIVE variable; 0 if none is released).
    l: int | None  # noqa: E741 - the name the literature gives it
    records: int
    released: int
    #: Reason ("k": class too small, "l": too few sensitive values) → records dropped.
    suppressed_records: dict[str, int]
    #: Generalised QUASI tuples of the released classes. ``apply`` drops a record whose
    #: tuple is not among them (one that appeared between the two passes), so a class that
    #: was never planned is never written. None: drop only ``suppressed``.
    classes: frozenset[tuple] | None = None


class _Classes:
    """The equivalence classes at some levels: records and, for classes of at least k
    records, the distinct values of each sensitive variable."""

    def __init__(self, sizes: dict[tuple, int], seen: dict[tuple, list[set]] | None) -> None:
        self.sizes, self.seen = sizes, seen

    def reason(self, lifted: tuple, k: int, l: int) -> str | None:  # noqa: E741
        """Why a class may not be released: "k", "l", or None when it may."""
        if self.sizes[lifted] < k:
            return "k"
        if self.seen is not None and self.diversity(lifted) < l:
            return "l"
        return None

    def diversity(self, lifted: tuple) -> int:
        return min(len(s) for s in self.seen[lifted]) if self.seen is not None else 0


class _Search:
    """The counts of the first pass and the level search over them."""

    def __init__(self, table: Microdata, k: int, l: int) -> None:  # noqa: E741
        self.quasi = [
            (i, v, hierarchy_of(v)) for i, v in enumerate(table.variables) if v.role is Role.QUASI
        ]
        self.sensitive = [i for i, v in enumerate(table.variables) if v.role is Role.SENSITIVE]
        self.k, self.l = k, l
        #: Base tuple → per sensitive variable, the distinct value seen, or a set of them
        #: once there are several (values themselves are never sets: see ``_hashable``).
        self.values: dict[tuple, list[Any]] = {}
        #: (variable, level) → label of each distinct base value of the variable.
        self.labels: dict[tuple[int, int], dict[Any, str | None]] = {}
        self.failures: dict[tuple[int, ...], int] = {}
        #: Filled by ``count``: the distinct base tuples, their records, and the tuples'
        #: values variable by variable.
        self.records = 0
        self.keys: list[tuple] = []
        self.sizes: list[int] = []
        self.columns: list[list[Any]] = []

    def count(self, rows: Iterator[Row]) -> None:
        reducers = [(i, h.reduce) for i, _v, h in self.quasi]
        counts: dict[tuple, int] = {}
        values, sensitive = self.values, self.sensitive
        for row in rows:
            key = tuple([reduce(row[i]) for i, reduce in reducers])
            counts[key] = counts.get(key, 0) + 1
            if not sensitive:
                continue
            seen = values.get(key)
            if seen is None:
                values[key] = [_hashable(row[i]) for i in sensitive]
                continue
            for n, i in enumerate(sensitive):
                value, known = _hashable(row[i]), seen[n]
                # One value is kept as itself, two or more as a set: most base tuples
                # hold a record or two, and a set per tuple would cost more than the rest.
                if type(known) is set:
                    known.add(value)
                elif known != value:
                    seen[n] = {known, value}
        self.records = sum(counts.values())
        # Column by column, so that lifting the keys to some levels runs as list
        # comprehensions rather than a loop per key and variable.
        self.keys = list(counts)
        self.sizes = list(counts.values())
        self.columns = [[key[n] for key in self.keys] for n in range(len(self.quasi))]

    def lifted(self, levels: tuple[int, ...]) -> list[tuple]:
        """The base tuples generalised to ``levels``, in the order of ``self.keys``."""
        if not self.quasi:
            return [()] * len(self.keys)
        columns = []
        for n, (level, column) in enumerate(zip(levels, self.columns, strict=True)):
            labels = self.labels.get((n, level))
            if labels is None:
                generalise = self.quasi[n][2].generalise
                labels = self.labels[(n, level)] = {v: generalise(v, level) for v in set(column)}
            columns.append([labels[v] for v in column])
        return list(zip(*columns, strict=True))

    def classes(self, levels: tuple[int, ...], diversity: bool) -> _Classes:
        lifted = self.lifted(levels)
        sizes: dict[tuple, int] = {}
        for key, n in zip(lifted, self.sizes, strict=True):
            sizes[key] = sizes.get(key, 0) + n
        if not diversity:
            return _Classes(sizes, None)
        # Only classes large enough for k can still fail on l: the others need no sets.
        seen: dict[tuple, list[set]] = {}
        for key, base in zip(lifted, self.keys, strict=True):
            if sizes[key] >= self.k:
                acc = seen.get(key)
                if acc is None:
                    acc = seen[key] = [set() for _s in self.sensitive]
                for union, known in zip(acc, self.values[base], strict=True):
                    if type(known) is set:
                        union |= known
                    else:
                        union.add(known)
        return _Classes(sizes, seen)

    def failing(self, levels: tuple[int, ...]) -> int:
        if levels not in self.failures:
            # Distinct values matter only when a class could show fewer than l.
            found = self.classes(levels, diversity=bool(self.sensitive) and self.l > 1)
            self.failures[levels] = sum(
                n for key, n in found.sizes.items() if found.reason(key, self.k, self.l)
            )
        return self.failures[levels]

    def search(self, allowed: float) -> tuple[int, ...]:
        """The levels to release at: the first, raising one variable a level at a time, whose
        failing records may all be suppressed; at worst every variable at "*"."""
        levels = tuple(0 for _q in self.quasi)
        heights = [h.levels - 1 for _i, _v, h in self.quasi]
        while True:
            failing = self.failing(levels)
            raisable = [n for n, level in enumerate(levels) if level < heights[n]]
            if failing <= allowed or not raisable:
                return levels
            # Bottom-up generalisation (Wang, Yu & Chakraborty, 2004): raise the variable that
            # brings the most failing records into compliance per unit of information lost,
            # a step costing 1/height of its hierarchy (Sweeney's precision metric), so a
            # date goes from week to month before a district is given up altogether.
            scores = {
                n: (failing - self.failing(_raised(levels, n))) * heights[n] for n in raisable
            }
            best = max(raisable, key=lambda n: (scores[n], -n))
            if scores[best] <= 0:
                # No single raise helps (two variables must both give way): Datafly's rule
                # (Sweeney, 1997), the variable with the most distinct values at its level.
                classes = self.classes(levels, diversity=False).sizes
                best = max(raisable, key=lambda n: (len({c[n] for c in classes}), -n))
            levels = _raised(levels, best)


def _raised(levels: tuple[int, ...], n: int) -> tuple[int, ...]:
    return (*levels[:n], levels[n] + 1, *levels[n + 1 :])


def plan(table: Microdata, k: int, l: int, max_suppressed: float) -> Plan:  # noqa: E741
    """Read the table once and choose the generalisation levels and suppressed classes.

    Records failing k (or l) at the chosen levels are suppressed; their share stays at most
    ``max_suppressed`` unless every quasi-identifier is already at "*", where whatever still
    fails is suppressed regardless (a table of fewer than k records is suppressed whole and
    reports k = 0). Without QUASI variables the whole table is one class: k is the number of
    records, which must reach k itself to be released.
    """
    search = _Search(table, k, l)
    search.count(table.rows())
    levels = search.search(max_suppressed * search.records)
    diversity = bool(search.sensitive)
    found = search.classes(levels, diversity)
    suppressed: set[tuple] = set()
    released: list[tuple] = []
    dropped = {"k": 0, "l": 0}
    for lifted, n in found.sizes.items():
        reason = found.reason(lifted, k, l)
        if reason:
            suppressed.add(lifted)
            dropped[reason] += n
        else:
            released.append(lifted)
    return Plan(
        levels={v.name: level for (_i, v, _h), level in zip(search.quasi, levels, strict=True)},
        suppressed=frozenset(suppressed),
        k=min((found.sizes[c] for c in released), default=0),
        l=min((found.diversity(c) for c in released), default=0) if diversity else None,
        records=search.records,
        released=sum(found.sizes[c] for c in released),
        suppressed_records=dropped,
        classes=frozenset(released),
    )


def apply(table: Microdata, plan: Plan) -> Iterator[Row]:
    """Read the table again: QUASI values generalised to strings at the plan's levels,
    suppressed records dropped, every other column untouched, the order kept."""
    quasi = [
        (i, hierarchy_of(v), plan.levels[v.name])
        for i, v in enumerate(table.variables)
        if v.role is Role.QUASI
    ]
    cache: list[dict[Any, str | None]] = [{} for _q in quasi]
    for row in table.rows():
        lifted = []
        for n, (i, h, level) in enumerate(quasi):
            key = h.reduce(row[i])
            label = cache[n].get(key, _UNSEEN)
            if label is _UNSEEN:
                label = cache[n][key] = h.generalise(key, level)
            lifted.append(label)
        generalised = tuple(lifted)
        if generalised in plan.suppressed:
            continue
        if plan.classes is not None and generalised not in plan.classes:
            continue
        if not quasi:
            yield row
            continue
        out = list(row)
        for (i, _h, _level), label in zip(quasi, generalised, strict=True):
            out[i] = label
        yield tuple(out)


def released_variables(table: Microdata, plan: Plan) -> list[Variable]:
    """The variables as released: QUASI ones become strings, their ``source`` noting the
    generalisation applied (the codebook shows it); value labels no longer apply to them."""
    released = []
    for v in table.variables:
        if v.role is not Role.QUASI:
            released.append(v)
            continue
        # TRANSLATORS: in a research export's codebook, how a variable was coarsened so that
        # no one can be singled out; the level is e.g. "month" or "bands of 20".
        applied = _("generalised: %(level)s", level=hierarchy_of(v).describe(plan.levels[v.name]))
        source = f"{v.source}; {applied}" if v.source else applied
        released.append(replace(v, kind=Kind.STRING, codes=None, source=source))
    return released
