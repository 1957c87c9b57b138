"""Cell suppression: small counts hidden, and enough others that an attacker with the shown
cells and the totals cannot work any of them out."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from research.suppress import suppress
from research.table import TOTAL, Aggregate, Cell, Kind, Variable

ROW = Variable("district", Kind.STRING, "District")
COLUMN = Variable("month", Kind.STRING, "Month")
COUNT = Variable("households", Kind.INTEGER, "Households")
KWH = Variable("kwh", Kind.NUMBER, "Total kWh")


def aggregate(inner: list[list[int]], listed_zeros: bool = True) -> Aggregate:
    """A table with its row totals, column totals and grand total; zeros are listed or,
    as a dataset leaves them out, absent."""
    cells: dict = {}
    rows = [f"r{i}" for i in range(len(inner))]
    columns = [f"c{j}" for j in range(len(inner[0]))]
    for r, counts in zip(rows, inner, strict=True):
        for c, n in zip(columns, counts, strict=True):
            cells[(r, c)] = n
        cells[(r, TOTAL)] = sum(counts)
    for j, c in enumerate(columns):
        cells[(TOTAL, c)] = sum(counts[j] for counts in inner)
    cells[(TOTAL, TOTAL)] = sum(map(sum, inner))
    return Aggregate(
        name="use",
        title="Use",
        row=ROW,
        column=COLUMN,
        count=COUNT,
        measures=[KWH],
        cells={key: Cell(n, (n * 300.0,)) for key, n in cells.items() if n or listed_zeros},
    )


def counts_of(table: Aggregate) -> dict:
    return {key: cell.count for key, cell in table.cells.items()}


def lines_of(table: Aggregate) -> list[tuple[tuple, list[tuple]]]:
    """Every additive equation of the table: (total's key, the inner keys adding up to it)."""
    rows = [r for r in dict.fromkeys(r for r, _c in table.cells) if r != TOTAL]
    columns = [c for c in dict.fromkeys(c for _r, c in table.cells) if c != TOTAL]
    equations = []
    for r in [*rows, TOTAL]:
        equations.append(((r, TOTAL), [(r, c) for c in columns]))
    for c in [*columns, TOTAL]:
        equations.append(((TOTAL, c), [(r, c) for r in rows]))
    return equations


def single_equation_attack(table: Aggregate, hidden: set) -> dict:
    """Hidden cells recovered from equations with exactly one unknown, over and over (each
    cell recovered makes the next equation easier). Cells not listed are known zeros."""
    counts = counts_of(table)
    known = {key: n for key, n in counts.items() if key not in hidden}
    recovered: dict = {}
    progress = True
    while progress:
        progress = False
        for total, parts in lines_of(table):
            terms = [total, *parts]
            unknown = [key for key in terms if key in hidden and key not in recovered]
            if len(unknown) != 1:
                continue

            def value(key):
                return recovered.get(key, known.get(key, 0))

            (target,) = unknown
            if target == total:
                recovered[target] = sum(value(key) for key in parts)
            else:
                recovered[target] = value(total) - sum(value(key) for key in parts if key != target)
            progress = True
    return recovered


def linear_attack(table: Aggregate, hidden: set) -> set:
    """Hidden cells whose value the whole system of equations decides: a cell is decided
    when its column in the unknowns' coefficient matrix is not in the span of the others."""
    unknowns = sorted(hidden, key=repr)
    if not unknowns:
        return set()
    index = {key: n for n, key in enumerate(unknowns)}
    matrix = []
    for total, parts in lines_of(table):
        equation = [0.0] * len(unknowns)
        if total in index:
            equation[index[total]] -= 1
        for key in parts:
            if key in index:
                equation[index[key]] += 1
        matrix.append(equation)
    matrix = np.array(matrix)
    rank = np.linalg.matrix_rank(matrix)
    decided = set()
    for key, n in index.items():
        if np.linalg.matrix_rank(np.delete(matrix, n, axis=1)) < rank:
            decided.add(key)
    return decided


def test_primary_cells_are_the_small_non_zero_ones_totals_included():
    table = aggregate([[3, 40, 0], [25, 60, 12]])
    result = suppress(table, 10)
    assert result.primary == {("r0", "c0")}
    table = aggregate([[3, 4, 0], [25, 60, 12]])
    result = suppress(table, 10)
    # r0's total counts 7: a total under the minimum is hidden like any cell.
    assert result.primary == {("r0", "c0"), ("r0", "c1"), ("r0", TOTAL)}
    assert ("r0", "c2") not in result.hidden
    assert result.hidden == result.primary | result.secondary


def test_a_lone_small_cell_is_protected_by_the_smallest_neighbours():
    table = aggregate([[3, 40, 15], [25, 60, 12], [30, 70, 80]])
    result = suppress(table, 10)
    assert result.primary == {("r0", "c0")}
    # Row r0 hides its smallest other cell, 15; column c0 its smallest, 25; then row r1 and
    # column c2 have one hidden each, and hide r1's c2 (12) - which closes the square.
    assert result.secondary == {("r0", "c2"), ("r1", "c0"), ("r1", "c2")}
    assert single_equation_attack(table, result.hidden) == {}
    assert linear_attack(table, result.hidden) == set()


def test_primary_suppression_alone_would_give_the_cell_away():
    """The attack finds what naive suppression leaves open: the tests below can fail."""
    table = aggregate([[3, 40, 15], [25, 60, 12], [30, 70, 80]])
    naive = suppress(table, 10).primary
    assert single_equation_attack(table, naive) == {("r0", "c0"): 3}
    assert linear_attack(table, naive) == {("r0", "c0")}


def test_a_hidden_cell_decided_by_combining_equations_is_protected():
    """Two squares of small cells joined by one more small cell: every row and column holds
    two or more hidden cells, yet adding the rows of the first square and taking away its
    columns leaves the joining cell alone. It must lie on a cycle of hidden cells."""
    inner = [[50] * 6 for _r in range(6)]
    for r, c in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (0, 2)]:
        inner[r][c] = 3
    table = aggregate(inner)
    primary = suppress(table, 10).primary
    assert single_equation_attack(table, primary) == {}
    assert linear_attack(table, primary) == {("r0", "c2")}
    result = suppress(table, 10)
    assert result.secondary
    assert linear_attack(table, result.hidden) == set()


def test_zeros_are_shown_and_never_chosen_while_a_count_is_there():
    table = aggregate([[3, 0, 40], [0, 0, 0], [30, 0, 80]])
    result = suppress(table, 10)
    assert all(table.cells[key].count > 0 for key in result.hidden)
    assert linear_attack(table, result.hidden) == set()


def test_the_same_table_is_suppressed_the_same_way():
    table = aggregate([[3, 40, 15, 9], [25, 60, 12, 4], [30, 70, 80, 11]])
    assert suppress(table, 10) == suppress(table, 10)


def test_a_table_without_small_cells_hides_nothing():
    result = suppress(aggregate([[30, 40], [50, 0]]), 10)
    assert result.hidden == set()


SMALL_OR_LARGE = st.one_of(st.integers(0, 12), st.integers(10, 90))


@given(
    inner=st.integers(1, 6).flatmap(
        lambda columns: st.lists(
            st.lists(SMALL_OR_LARGE, min_size=columns, max_size=columns), min_size=1, max_size=6
        )
    ),
    minimum=st.integers(2, 15),
)
def test_no_hidden_cell_can_be_worked_out(inner, minimum):
    table = aggregate(inner)
    result = suppress(table, minimum)
    assert result.primary == {k for k, n in counts_of(table).items() if 0 < n < minimum}
    assert result.primary <= result.hidden
    assert single_equation_attack(table, result.hidden) == {}
    assert linear_attack(table, result.hidden) == set()
    # And the naive suppression would have been attacked whenever a line held one small cell.
    if any(
        sum(key in result.primary for key in [total, *parts]) == 1
        for total, parts in lines_of(table)
    ):
        assert single_equation_attack(table, result.primary)


@given(
    inner=st.lists(st.lists(SMALL_OR_LARGE, min_size=4, max_size=4), min_size=1, max_size=5),
    minimum=st.integers(2, 15),
)
def test_tables_without_their_zeros_are_protected_too(inner, minimum):
    """A dataset lists only non-empty cells, and only listed cells can be hidden. Totals that
    add up always offer a way: a non-zero cell's row total, column total and the grand
    total are listed and close a cycle through it."""
    table = aggregate(inner, listed_zeros=False)
    result = suppress(table, minimum)
    assert result.hidden <= set(table.cells)
    assert single_equation_attack(table, result.hidden) == {}
    assert linear_attack(table, result.hidden) == set()
