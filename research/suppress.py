"""Cell suppression for aggregate tables: counts of too few people are hidden (primary), and
so many others beside them (secondary) that no hidden count can be worked out from the
shown cells and the published totals.

The table is read with its totals (the TOTAL row and column and the grand total) as one
grid in which each row and each column is an additive equation: its inner cells add up to
its total. A cell that is absent from the table counts 0 people and is shown.

Zero counts are shown: a cell of 0 people reveals no one, so, as statistics offices do
(tau-argus treats zero cells as not sensitive by default), only counts from 1 to
``minimum - 1`` are primary.

Secondary suppression works in two steps:

1. a row or column with exactly one hidden cell (a single unknown in its equation) gets
   another hidden: its smallest non-zero shown cell, repeated until no row or column has
   exactly one hidden cell;
2. hidden cells are the edges of a graph between rows and columns (the grid's row and
   column equations, totals included). A hidden count can be solved for, by adding and
   subtracting equations, exactly when its edge lies on no cycle of that graph (a bridge):
   any cycle lets the counts along it move up and down together without changing a shown
   number. Each bridge is closed into a cycle by hiding the shown cells of the cheapest
   path between its two ends (fewest people hidden). Step 1 is the commonest case of
   this one (a row with one hidden cell is a vertex with one edge); it runs first, for its
   simpler choice of cells.
"""

import heapq
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from research.table import Aggregate

Key = tuple[Hashable, Hashable]


@dataclass
class Suppressed:
    #: (row, col) keys, TOTAL ones included, counting from 1 to minimum-1 people.
    primary: set[tuple] = field(default_factory=set)
    #: Keys hidden so that the primary ones cannot be worked out from the rest.
    secondary: set[tuple] = field(default_factory=set)

    @property
    def hidden(self) -> set[tuple]:
        return self.primary | self.secondary


def suppress(table: Aggregate, minimum: int) -> Suppressed:
    """The cells of ``table`` to hide when fewer than ``minimum`` people may not be shown."""
    cells = {key: cell.count for key, cell in table.cells.items()}
    primary = {key for key, count in cells.items() if 0 < count < minimum}
    hidden = set(primary)
    rows = list(dict.fromkeys(r for r, _c in cells))
    columns = list(dict.fromkeys(c for _r, c in cells))
    lines = [[(r, c) for c in columns] for r in rows] + [[(r, c) for r in rows] for c in columns]
    while True:
        _close_lines(lines, cells, hidden)
        # In the table's order, so the same table is always suppressed the same way.
        bridge = _bridge([key for key in cells if key in hidden])
        if bridge is None:
            break
        path = _cheapest_cycle(bridge, cells, hidden)
        if not path:
            # Only cells the table does not list could close it: nothing more can be
            # hidden here (the check reports the table, which is then not released).
            break
        hidden.update(path)
    return Suppressed(primary=primary, secondary=hidden - primary)


def _smallest(keys: Iterable[Key], cells: dict, hidden: set) -> Key | None:
    """The shown cell to hide: the smallest non-zero count (least information lost), or a
    listed zero when there is no other; ties go to the first in the table's order."""
    shown = [key for key in keys if key in cells and key not in hidden]
    nonzero = [key for key in shown if cells[key] > 0]
    return min(nonzero or shown, key=lambda key: cells[key], default=None)


def _close_lines(lines: list[list[Key]], cells: dict, hidden: set) -> None:
    """Step 1: no row or column is left with exactly one hidden cell."""
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(key in hidden for key in line) == 1:
                chosen = _smallest(line, cells, hidden)
                if chosen is not None:
                    hidden.add(chosen)
                    changed = True


def _graph(hidden: Iterable[Key]) -> dict[tuple, list[tuple]]:
    """Rows and columns as vertices (("r", row), ("c", column)), hidden cells as edges."""
    graph: dict[tuple, list[tuple]] = {}
    for r, c in hidden:
        graph.setdefault(("r", r), []).append(("c", c))
        graph.setdefault(("c", c), []).append(("r", r))
    return graph


def _bridge(hidden: list[Key]) -> Key | None:
    """A hidden cell on no cycle of the graph (Tarjan's bridge search, without recursion so
    that large tables cannot exhaust the stack), or None."""
    graph = _graph(hidden)
    order: dict[tuple, int] = {}
    low: dict[tuple, int] = {}
    for root in graph:
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack = [(root, None, iter(graph[root]))]
        while stack:
            vertex, parent, neighbours = stack[-1]
            for nxt in neighbours:
                if nxt == parent:
                    continue
                if nxt in order:
                    low[vertex] = min(low[vertex], order[nxt])
                else:
                    order[nxt] = low[nxt] = len(order)
                    stack.append((nxt, vertex, iter(graph[nxt])))
                    break
            else:
                stack.pop()
                if parent is not None:
                    low[parent] = min(low[parent], low[vertex])
                    if low[vertex] > order[parent]:
                        ends = {parent[0]: parent[1], vertex[0]: vertex[1]}
                        return (ends["r"], ends["c"])
    return None


def _cheapest_cycle(bridge: Key, cells: dict[Key, int], hidden: set) -> list[Key]:
    """The shown cells to hide so that ``bridge`` lies on a cycle: the cheapest path from the
    bridge's column back to its row over the listed cells, hidden ones free, shown ones
    costing their count (a listed zero only as a last resort), found with Dijkstra's
    algorithm."""
    last_resort = sum(cells.values()) + 1
    graph: dict[tuple, list[tuple[tuple, Key]]] = {}
    for key in cells:
        if key != bridge:
            r, c = key
            graph.setdefault(("r", r), []).append((("c", c), key))
            graph.setdefault(("c", c), []).append((("r", r), key))

    def cost(key: Key) -> int:
        if key in hidden:
            return 0
        return cells[key] if cells[key] > 0 else last_resort

    start, goal = ("c", bridge[1]), ("r", bridge[0])
    # (distance, tie-breaker, vertex); the tie-breaker keeps the order deterministic.
    queue: list[tuple[int, int, tuple]] = [(0, 0, start)]
    best = {start: 0}
    came: dict[tuple, tuple[tuple, Key]] = {}
    pushed = 0
    while queue:
        distance, _n, vertex = heapq.heappop(queue)
        if vertex == goal:
            path = []
            while vertex != start:
                vertex, key = came[vertex]
                if key not in hidden:
                    path.append(key)
            return path
        if distance > best[vertex]:
            continue
        for nxt, key in graph.get(vertex, ()):
            through = distance + cost(key)
            if through < best.get(nxt, through + 1):
                best[nxt] = through
                came[nxt] = (vertex, key)
                pushed += 1
                heapq.heappush(queue, (through, pushed, nxt))
    return []
