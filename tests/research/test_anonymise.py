"""k-anonymity by generalisation and suppression: hierarchies, the level search, the second
pass, and what the codebook is told."""

import random
import tracemalloc
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from flask_babel import force_locale
from hypothesis import given
from hypothesis import strategies as st

from research.anonymise import apply, plan, released_variables
from research.hierarchies import hierarchy
from research.table import Kind, Microdata, Role, Variable

PERSON = Variable("person", Kind.STRING, "Participant", Role.PSEUDONYM)
AGE = Variable("age", Kind.INTEGER, "Age", Role.QUASI, hierarchy="band:10", source="q_age v2")
DISTRICT = Variable("district", Kind.STRING, "District", Role.QUASI, hierarchy="category")
ANSWERED = Variable("answered", Kind.DATE, "Answered on", Role.QUASI, hierarchy="date")
HOUSEHOLD = Variable("household", Kind.INTEGER, "Household size", Role.QUASI, hierarchy="count")
HEALTH = Variable("health", Kind.INTEGER, "Health", Role.SENSITIVE, codes={1: "good", 2: "bad"})
SCORE = Variable("score", Kind.INTEGER, "Score")


def microdata(variables: list[Variable], rows: list[tuple]) -> Microdata:
    return Microdata("answers", "Answers", variables, rows=lambda: iter(rows))


def classes_of(table: Microdata, released: list[tuple], names: list[str]) -> Counter:
    at = [i for i, v in enumerate(table.variables) if v.name in names]
    return Counter(tuple(row[i] for i in at) for row in released)


# --- hierarchies -------------------------------------------------------------------------


def test_date_hierarchy_from_week_to_everything():
    dates = hierarchy("date")
    day = date(2026, 3, 31)
    assert [dates.generalise(day, n) for n in range(dates.levels)] == [
        "2026-W14",
        "2026-03",
        "2026-Q1",
        "2026",
        "*",
    ]
    # A timestamp is taken in UTC: 00:30 in Paris on 1 April is still 31 March.
    paris = timezone(timedelta(hours=2))
    assert dates.generalise(datetime(2026, 4, 1, 0, 30, tzinfo=paris), 1) == "2026-03"
    assert dates.generalise(datetime(2026, 4, 1, 0, 30), 1) == "2026-04"
    # The ISO week belongs to its ISO year.
    assert dates.generalise(date(2025, 12, 29), 0) == "2026-W01"
    assert dates.generalise(date(2025, 12, 29), 1) == "2025-12"
    assert dates.generalise("2026-07-04", 2) == "2026-Q3"


def test_count_hierarchy():
    counts = hierarchy("count")
    levels = [[counts.generalise(n, level) for n in (1, 2, 3, 4, 5, 9)] for level in range(4)]
    assert levels == [
        ["1", "2", "3", "4", "5+", "5+"],
        ["1", "2", "3+", "3+", "3+", "3+"],
        ["1-2", "1-2", "3+", "3+", "3+", "3+"],
        ["*"] * 6,
    ]
    assert counts.generalise(0, 2) == "0"
    assert counts.generalise(-1, 0) is None
    assert counts.generalise(2.5, 0) is None
    assert counts.generalise(Decimal(3), 0) == "3"


def test_band_hierarchy_doubles_its_width():
    bands = hierarchy("band:10")
    assert [bands.generalise(37, n) for n in range(bands.levels)] == [
        "30-39",
        "20-39",
        "0-39",
        "*",
    ]
    # Half-open bands: 29.5 lies in 20 ≤ v < 30, labelled by its whole numbers.
    assert bands.generalise(29.5, 0) == "20-29"
    assert bands.generalise(-5, 0) == "-10--1"
    assert bands.generalise(-0.5, 1) == "-20--1"
    assert bands.generalise("42", 0) == "40-49"
    assert bands.generalise(Decimal("42.7"), 0) == "40-49"
    for nonsense in ("forty", float("nan"), float("inf"), True, None, [1]):
        assert bands.generalise(nonsense, 0) is None
    assert hierarchy("band:5").generalise(7, 2) == "0-19"
    assert hierarchy("band").generalise(7, 0) == "0-9"


def test_category_hierarchy_and_missing_values():
    category = hierarchy("category")
    assert category.generalise("Croix-Rousse", 0) == "Croix-Rousse"
    assert category.generalise(3, 0) == "3"
    assert category.generalise(True, 0) == "true"
    assert category.generalise("", 0) is None
    for name in ("date", "count", "category", "band:10"):
        h = hierarchy(name)
        assert h.generalise(None, 0) is None
        # The last level always gives "*", and missing stays missing there too.
        assert h.generalise(None, h.levels - 1) is None


@pytest.mark.parametrize("name", ["band:0", "band:-5", "band:x", "zip", "", "dates"])
def test_unknown_hierarchies_are_refused(name):
    with pytest.raises(ValueError):
        hierarchy(name)


@given(
    value=st.one_of(
        st.dates(),
        st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=-7))])),
    )
)
def test_dates_reduced_to_a_day_generalise_alike(value):
    dates = hierarchy("date")
    for level in range(dates.levels):
        assert dates.generalise(dates.reduce(value), level) == dates.generalise(value, level)


@given(
    value=st.one_of(
        st.integers(-(10**20), 10**20), st.floats(allow_nan=False, allow_infinity=False)
    ),
    width=st.integers(1, 50),
)
def test_numbers_reduced_to_their_band_generalise_alike(value, width):
    for name in (f"band:{width}", "count"):
        h = hierarchy(name)
        for level in range(h.levels):
            assert h.generalise(h.reduce(value), level) == h.generalise(value, level)
    start = hierarchy(f"band:{width}").reduce(value)
    assert start <= value < start + width


# --- plan and apply ----------------------------------------------------------------------


def test_a_table_already_k_anonymous_is_released_at_base_level():
    rows = [(f"u:{n}", 30 + n % 2, "Nord", 1) for n in range(30)]
    table = microdata([PERSON, AGE, DISTRICT, HEALTH], rows)
    result = plan(table, k=10, l=1, max_suppressed=0.0)
    assert result.levels == {"age": 0, "district": 0}
    assert result.k == 30 and result.l == 1
    assert result.records == result.released == 30
    assert result.suppressed == frozenset()
    assert result.suppressed_records == {"k": 0, "l": 0}
    released = list(apply(table, result))
    assert released[0] == ("u:0", "30-39", "Nord", 1)
    assert [row[0] for row in released] == [row[0] for row in rows]


def test_outliers_within_the_allowed_share_are_suppressed_not_generalised():
    rows = [(f"u:{n}", 34, "Nord") for n in range(99)] + [("u:99", 97, "Nord")]
    table = microdata([PERSON, AGE, DISTRICT], rows)
    result = plan(table, k=10, l=2, max_suppressed=0.05)
    assert result.levels == {"age": 0, "district": 0}
    assert result.suppressed == frozenset({("90-99", "Nord")})
    assert result.suppressed_records == {"k": 1, "l": 0}
    assert result.k == 99 and result.l is None
    assert result.released == 99
    assert [row[0] for row in apply(table, result)] == [f"u:{n}" for n in range(99)]


def test_generalises_the_cheapest_variable_first():
    """Weeks that are each too small but make full months: the date goes up to the month,
    the district (which would lose everything in one step) stays."""
    rows = []
    for n in range(80):
        district = ("Nord", "Sud")[n % 2]
        rows.append((f"u:{n}", district, date(2026, 3, 2) + timedelta(days=n % 28)))
    table = microdata([PERSON, DISTRICT, ANSWERED], rows)
    result = plan(table, k=10, l=1, max_suppressed=0.0)
    assert result.levels == {"district": 0, "answered": 1}
    assert result.k == 40
    released = list(apply(table, result))
    assert Counter(row[1:] for row in released) == {
        ("Nord", "2026-03"): 40,
        ("Sud", "2026-03"): 40,
    }


def test_fewer_records_than_k_are_all_suppressed():
    rows = [(f"u:{n}", 20 + n, "Nord", n % 2) for n in range(9)]
    table = microdata([PERSON, AGE, DISTRICT, HEALTH], rows)
    result = plan(table, k=10, l=2, max_suppressed=0.05)
    assert result.levels == {"age": 3, "district": 1}
    assert result.k == 0 and result.l == 0
    assert result.released == 0
    assert result.suppressed_records == {"k": 9, "l": 0}
    assert list(apply(table, result)) == []


def test_without_quasi_identifiers_the_whole_table_is_one_class():
    rows = [(f"u:{n}", n) for n in range(12)]
    table = microdata([PERSON, SCORE], rows)
    result = plan(table, k=10, l=2, max_suppressed=0.05)
    assert result.levels == {}
    assert (result.k, result.l, result.released) == (12, None, 12)
    assert list(apply(table, result)) == rows

    few = microdata([PERSON, SCORE], rows[:5])
    result = plan(few, k=10, l=2, max_suppressed=0.05)
    assert (result.k, result.released, result.suppressed_records["k"]) == (0, 0, 5)
    assert list(apply(few, result)) == []


def test_an_empty_table():
    table = microdata([PERSON, AGE, HEALTH], [])
    result = plan(table, k=10, l=2, max_suppressed=0.05)
    assert (result.k, result.l, result.records, result.released) == (0, 0, 0, 0)
    assert list(apply(table, result)) == []


def test_classes_without_diversity_are_suppressed_for_l():
    """Everyone aged 40-49 in Sud answered "bad": a class that tells its members' answer."""
    rows = [(f"u:{n}", 30 + n % 10, "Nord", 1 + n % 2) for n in range(100)]
    rows += [(f"v:{n}", 40 + n % 10, "Sud", 2) for n in range(4)]
    table = microdata([PERSON, AGE, DISTRICT, HEALTH], rows)
    result = plan(table, k=2, l=2, max_suppressed=0.05)
    assert result.suppressed_records == {"k": 0, "l": 4}
    assert result.l == 2
    assert all(row[0].startswith("u:") for row in apply(table, result))


def test_missing_values_form_classes_of_their_own():
    rows = [(f"u:{n}", None if n < 3 else 35, "Nord") for n in range(40)]
    table = microdata([PERSON, AGE, DISTRICT], rows)
    result = plan(table, k=10, l=1, max_suppressed=0.1)
    assert result.suppressed == frozenset({(None, "Nord")})
    released = list(apply(table, result))
    assert len(released) == 37 and all(row[1] == "30-39" for row in released)


def test_plan_reads_once_apply_once_and_drops_classes_never_planned():
    reads = []
    rows = [(f"u:{n}", 35, "Nord") for n in range(20)]

    def stream():
        reads.append(len(reads))
        # The second pass sees a record that arrived in between, of a class of its own.
        yield from rows if len(reads) == 1 else [*rows, ("u:late", 81, "Sud")]

    table = Microdata("answers", "Answers", [PERSON, AGE, DISTRICT], rows=stream)
    result = plan(table, k=10, l=1, max_suppressed=0.0)
    assert reads == [0]
    released = list(apply(table, result))
    assert reads == [0, 1]
    assert len(released) == 20 and ("u:late", "80-89", "Sud") not in released


def test_memory_grows_with_distinct_combinations_not_records():
    """Five times the records over the same few thousand combinations (timestamps included:
    they are counted by day) take no more memory to plan."""
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def peak(records: int) -> int:
        def stream():
            for n in range(records):
                yield (
                    f"u:{n}",
                    18 + n % 60,
                    ("Nord", "Sud", "Est")[n % 3],
                    # The same 85 days, however many records.
                    start + timedelta(seconds=n * 37 * 100_000 // records),
                    1 + n % 2,
                )

        table = Microdata("big", "Big", [PERSON, AGE, DISTRICT, ANSWERED, HEALTH], rows=stream)
        tracemalloc.start()
        try:
            result = plan(table, k=10, l=2, max_suppressed=0.05)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert result.records == records and result.k >= 10
        return peak

    small, large = peak(20_000), peak(100_000)
    assert large < 1.5 * small
    assert large < 4 * 1024 * 1024


def random_table(seed: int, size: int) -> Microdata:
    generator = random.Random(seed)
    rows = []
    for n in range(size):
        rows.append(
            (
                f"u:{n}",
                generator.choice([None, *range(16, 95)]),
                generator.choice(["Nord", "Sud", "Est", "Ouest", "Centre", "Port"]),
                date(2025, 1, 1) + timedelta(days=generator.randrange(500)),
                generator.choice([1, 1, 2, 2, 2, 3, 4, 5, 6, 8]),
                generator.choice([1, 2, 2, 3]),
                n,
            )
        )
    variables = [PERSON, AGE, DISTRICT, ANSWERED, HOUSEHOLD, HEALTH, SCORE]
    return microdata(variables, rows)


@given(
    seed=st.integers(0, 10_000),
    size=st.integers(0, 400),
    k=st.integers(2, 20),
    l=st.integers(1, 3),
    max_suppressed=st.sampled_from([0.0, 0.02, 0.05, 0.2]),
)
def test_released_records_are_k_anonymous_and_l_diverse(seed, size, k, l, max_suppressed):  # noqa: E741
    table = random_table(seed, size)
    result = plan(table, k=k, l=l, max_suppressed=max_suppressed)
    released = list(apply(table, result))
    quasi = ["age", "district", "answered", "household"]
    classes = classes_of(table, released, quasi)
    assert len(released) == result.released
    assert result.records == size
    assert result.released + sum(result.suppressed_records.values()) == size
    assert result.k == min(classes.values(), default=0)
    assert all(n >= k for n in classes.values())
    diversity: dict[tuple, set] = {}
    for row in released:
        diversity.setdefault(row[1:5], set()).add(row[5])
    assert result.l == min((len(s) for s in diversity.values()), default=0)
    assert all(len(s) >= l for s in diversity.values())
    fully_generalised = result.levels == {"age": 3, "district": 1, "answered": 4, "household": 3}
    if not fully_generalised:
        assert size - result.released <= max_suppressed * size
    # Other columns are untouched and the order is kept.
    assert [row[6] for row in released] == sorted(row[6] for row in released)
    originals = {row[0]: row for row in table.rows()}
    assert all(row[5] == originals[row[0]][5] for row in released)


def test_released_variables_note_the_generalisation():
    rows = [(f"u:{n}", 20 + n % 20, "Nord", 1 + n % 2, n) for n in range(40)]
    table = microdata([PERSON, AGE, DISTRICT, HEALTH, SCORE], rows)
    result = plan(table, k=40, l=2, max_suppressed=0.0)
    assert result.levels == {"age": 1, "district": 0}
    person, age, district, health, score = released_variables(table, result)
    assert (person, health, score) == (PERSON, HEALTH, SCORE)
    assert age.kind is Kind.STRING and age.role is Role.QUASI and age.codes is None
    assert age.name == "age" and age.label == "Age"
    assert age.source == "q_age v2; generalised: bands of 20"
    assert district.source == "generalised: as given"


def test_released_variables_are_described_in_the_exports_locale(app, translate):
    """The pipeline describes them inside ``force_locale``; a string not yet translated
    falls back to English."""
    rows = [(f"u:{n}", date(2026, 3, 1 + n % 28)) for n in range(40)]
    table = microdata([PERSON, ANSWERED], rows)
    result = plan(table, k=20, l=1, max_suppressed=0.0)
    with app.test_request_context(), force_locale("de"):
        (_person, answered) = released_variables(table, result)
    month = translate("de", "month")
    assert answered.source == translate("de", "generalised: %(level)s", level=month)
