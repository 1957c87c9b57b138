"""The independent anonymity check, measuring packages written to disk."""

import csv
import json
import random
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycanon.anonymity import k_anonymity, l_diversity

from research.anonymise import apply, plan, released_variables
from research.check import check_package
from research.suppress import suppress
from research.table import TOTAL, Aggregate, Variable
from tests.research.test_anonymise import random_table
from tests.research.test_suppress import aggregate, linear_attack

K, L, MIN_CELL = 10, 2, 10


def write_csv(path: Path, header: list[str], rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if value is None else value for value in row])


def write_package(directory: Path, resources: list[dict]) -> Path:
    (directory / "datapackage.json").write_text(
        json.dumps({"name": "export", "resources": resources}), encoding="utf-8"
    )
    return directory


def microdata_resource(name: str, fields: list[tuple[str, str]]) -> dict:
    return {
        "name": name,
        "path": f"data/{name}.csv",
        "format": "csv",
        "schema": {"fields": [{"name": n, "type": "string", "role": r} for n, r in fields]},
    }


def write_microdata(directory: Path, name: str, fields: list[tuple[str, str]], rows) -> dict:
    write_csv(directory / "data" / f"{name}.csv", [n for n, _r in fields], rows)
    return microdata_resource(name, fields)


FIELDS = [("person", "pseudonym"), ("age", "quasi"), ("district", "quasi"), ("health", "sensitive")]


def people(count: int, age: str, district: str, values=("good", "bad")) -> list[tuple]:
    return [(f"p{n}", age, district, values[n % len(values)]) for n in range(count)]


def test_a_k_anonymous_l_diverse_file_passes(tmp_path):
    rows = people(12, "30-39", "Nord") + people(10, "40-49", "Nord", ("good", "bad", "fair"))
    write_package(tmp_path, [write_microdata(tmp_path, "answers", FIELDS, rows)])
    (measure,) = check_package(tmp_path, K, L, MIN_CELL)
    assert measure.resource == "answers"
    assert (measure.records, measure.k, measure.l) == (22, 10, 2)
    assert measure.passed and measure.problems == []


def test_a_small_class_fails_k(tmp_path):
    rows = people(12, "30-39", "Nord") + people(3, "90-99", "Nord")
    write_package(tmp_path, [write_microdata(tmp_path, "answers", FIELDS, rows)])
    (measure,) = check_package(tmp_path, K, L, MIN_CELL)
    assert (measure.k, measure.l) == (3, 2)
    assert not measure.passed and measure.problems == ["k=3<10"]


def test_a_class_of_one_answer_fails_l(tmp_path):
    rows = people(12, "30-39", "Nord") + people(10, "40-49", "Sud", ("bad",))
    write_package(tmp_path, [write_microdata(tmp_path, "answers", FIELDS, rows)])
    (measure,) = check_package(tmp_path, K, L, MIN_CELL)
    assert (measure.k, measure.l) == (10, 1)
    assert measure.problems == ["l=1<2"]


def test_missing_values_are_values_and_unmarked_fields_are_not_measured(tmp_path):
    fields = [("person", "pseudonym"), ("age", "quasi"), ("score", "value")]
    rows = [(f"p{n}", None if n < 10 else "30-39", n) for n in range(20)]
    write_package(tmp_path, [write_microdata(tmp_path, "answers", fields, rows)])
    (measure,) = check_package(tmp_path, K, L, MIN_CELL)
    assert (measure.k, measure.l, measure.passed) == (10, None, True)


def test_without_quasi_fields_the_file_is_one_class(tmp_path):
    fields = [("idea", "pseudonym"), ("text", "text")]
    few = write_microdata(tmp_path, "few", fields, [(f"i{n}", "x") for n in range(4)])
    many = write_microdata(tmp_path, "many", fields, [(f"i{n}", "x") for n in range(40)])
    empty = write_microdata(tmp_path, "empty", FIELDS, [])
    write_package(tmp_path, [few, many, empty])
    few, many, empty = check_package(tmp_path, K, L, MIN_CELL)
    assert (few.k, few.passed, few.problems) == (4, False, ["k=4<10"])
    assert (many.k, many.passed) == (40, True)
    assert (empty.records, empty.k, empty.l, empty.passed) == (0, None, None, True)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_k_and_l_agree_with_pycanon(tmp_path, seed):
    generator = random.Random(seed)
    rows = [
        (
            f"p{n}",
            generator.choice(["20-29", "30-39", "40-49"]),
            generator.choice(["Nord", "Sud", "Est", "Ouest"]),
            generator.choice(["1", "2", "3+"]),
            generator.choice(["good", "fair", "bad"]),
            generator.choice(["yes", "no"]),
        )
        for n in range(generator.randrange(30, 400))
    ]
    fields = [
        *[("person", "pseudonym"), ("age", "quasi"), ("district", "quasi")],
        *[("household", "quasi"), ("health", "sensitive"), ("owner", "sensitive")],
    ]
    write_package(tmp_path, [write_microdata(tmp_path, "answers", fields, rows)])
    (measure,) = check_package(tmp_path, K, L, MIN_CELL)
    frame = pd.DataFrame(rows, columns=[n for n, _r in fields])
    quasi = ["age", "district", "household"]
    assert measure.k == k_anonymity(frame, quasi)
    assert measure.l == l_diversity(frame, quasi, ["health", "owner"])


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_measures_what_the_plan_promised(tmp_path, seed):
    table = random_table(seed, 600)
    result = plan(table, k=K, l=L, max_suppressed=0.05)
    variables = released_variables(table, result)
    fields = [(v.name, v.role.value) for v in variables]
    write_package(tmp_path, [write_microdata(tmp_path, "answers", fields, apply(table, result))])
    (measure,) = check_package(tmp_path, K, L, MIN_CELL)
    assert (measure.records, measure.k, measure.l) == (result.released, result.k, result.l)
    assert measure.passed


# --- aggregates --------------------------------------------------------------------------


def write_aggregate(directory: Path, table: Aggregate, hidden: set, name: str = "use") -> dict:
    measures: list[Variable] = table.measures
    rows = []
    for (r, c), cell in table.cells.items():
        if (r, c) in hidden:
            rows.append((r, c, None, *[None] * len(measures), 1))
        else:
            rows.append((r, c, cell.count, *cell.measures, 0))
    header = [table.row.name, table.column.name, table.count.name, *[m.name for m in measures]]
    write_csv(directory / "data" / f"{name}.csv", [*header, "suppressed"], rows)
    return {
        "name": name,
        "path": f"data/{name}.csv",
        "schema": {"fields": [{"name": n, "type": "string"} for n in [*header, "suppressed"]]},
        "aggregate": {
            "count": table.count.name,
            "row": table.row.name,
            "column": table.column.name,
        },
    }


TABLE = [[3, 40, 15], [25, 60, 12], [30, 70, 80]]


def test_a_suppressed_table_passes(tmp_path):
    table = aggregate(TABLE)
    write_package(tmp_path, [write_aggregate(tmp_path, table, suppress(table, MIN_CELL).hidden)])
    (measure,) = check_package(tmp_path, K, L, MIN_CELL)
    assert (measure.records, measure.k, measure.l) == (16, None, None)
    assert measure.passed and measure.problems == []


def test_a_small_count_shown_fails(tmp_path):
    table = aggregate(TABLE)
    write_package(tmp_path, [write_aggregate(tmp_path, table, set())])
    (measure,) = check_package(tmp_path, K, L, MIN_CELL)
    assert measure.problems == ["cell-below-min"]


def test_a_lone_hidden_cell_fails(tmp_path):
    table = aggregate(TABLE)
    write_package(tmp_path, [write_aggregate(tmp_path, table, {("r0", "c0")})])
    (measure,) = check_package(tmp_path, K, L, MIN_CELL)
    assert measure.problems == [
        "single-hidden-in-row",
        "single-hidden-in-column",
        "hidden-recomputable",
    ]


def test_a_cell_decided_by_combining_equations_fails(tmp_path):
    inner = [[50] * 6 for _r in range(6)]
    for r, c in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (0, 2)]:
        inner[r][c] = 3
    table = aggregate(inner)
    primary = suppress(table, MIN_CELL).primary
    write_package(tmp_path, [write_aggregate(tmp_path, table, primary)])
    (measure,) = check_package(tmp_path, K, L, MIN_CELL)
    assert measure.problems == ["hidden-recomputable"]


def test_a_hidden_cell_must_write_no_value(tmp_path):
    table = aggregate(TABLE)
    resource = write_aggregate(tmp_path, table, suppress(table, MIN_CELL).hidden)
    path = tmp_path / "data" / "use.csv"
    lines = path.read_bytes().decode().split("\r\n")
    # The first cell, hidden: its kWh written beside the empty count.
    assert lines[1] == "r0,c0,,,1"
    lines[1] = "r0,c0,,900.0,1"
    path.write_bytes("\r\n".join(lines).encode())
    write_package(tmp_path, [resource])
    (measure,) = check_package(tmp_path, K, L, MIN_CELL)
    assert measure.problems == ["hidden-value-shown"]


def test_counts_must_be_whole_numbers(tmp_path):
    write_csv(
        tmp_path / "data" / "use.csv",
        ["district", "month", "households", "suppressed"],
        [("Nord", "2026-01", "twelve", 0), ("Nord", "2026-01", "-3", 0)],
    )
    resource = {
        "name": "use",
        "path": "data/use.csv",
        "schema": {"fields": []},
        "aggregate": {"count": "households", "row": "district", "column": "month"},
    }
    write_package(tmp_path, [resource])
    (measure,) = check_package(tmp_path, K, L, MIN_CELL)
    assert measure.problems == ["count-not-integer", "duplicate-cell", "count-negative"]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(
    inner=st.lists(st.lists(st.integers(0, 40), min_size=3, max_size=3), min_size=2, max_size=4),
    choices=st.lists(st.booleans(), min_size=20, max_size=20),
)
def test_recomputable_cells_are_found_as_linear_algebra_finds_them(tmp_path, inner, choices):
    """The check's cycle test and an attacker solving the equations agree on any pattern of
    hidden cells."""
    table = aggregate(inner)
    hidden = {key for key, hide in zip(table.cells, choices, strict=False) if hide}
    write_package(tmp_path, [write_aggregate(tmp_path, table, hidden)])
    (measure,) = check_package(tmp_path, K, L, min_cell=1)
    assert ("hidden-recomputable" in measure.problems) == bool(linear_attack(table, hidden))


def test_totals_are_rows_and_columns_like_the_others(tmp_path):
    """A grand total hidden alone in the total row is as open as any other cell."""
    table = aggregate([[30, 40], [50, 60]])
    write_package(tmp_path, [write_aggregate(tmp_path, table, {(TOTAL, TOTAL)})])
    (measure,) = check_package(tmp_path, K, L, MIN_CELL)
    assert "single-hidden-in-row" in measure.problems


# --- packages that cannot be measured fail ---------------------------------------------


def test_a_missing_or_broken_datapackage_fails(tmp_path):
    (measure,) = check_package(tmp_path, K, L, MIN_CELL)
    assert (measure.passed, measure.problems) == (False, ["datapackage-unreadable"])
    (tmp_path / "datapackage.json").write_text("{not json", encoding="utf-8")
    assert check_package(tmp_path, K, L, MIN_CELL)[0].problems == ["datapackage-unreadable"]
    write_package(tmp_path, [])
    assert check_package(tmp_path, K, L, MIN_CELL)[0].problems == ["no-resources"]


def test_resources_that_cannot_be_read_fail(tmp_path):
    package = tmp_path / "package"
    package.mkdir()
    write_csv(tmp_path / "outside.csv", ["age"], [("30-39",)])
    write_csv(package / "data" / "nofield.csv", ["person"], [("p1",)])
    (package / "data" / "latin1.csv").write_bytes("age\r\n\xe9t\xe9\r\n".encode("latin-1"))
    (package / "data" / "empty.csv").write_bytes(b"")
    (package / "data" / "answers.sav").write_bytes(b"$FL2")
    fields = [("age", "quasi")]
    resources = [
        {**microdata_resource("outside", fields), "path": "../outside.csv"},
        {**microdata_resource("absolute", fields), "path": str(tmp_path / "outside.csv")},
        {**microdata_resource("gone", fields), "path": "data/gone.csv"},
        microdata_resource("nofield", fields),
        microdata_resource("latin1", fields),
        microdata_resource("empty", fields),
        {**microdata_resource("spss", fields), "path": "data/answers.sav"},
        {**microdata_resource("noschema", fields), "schema": None, "path": "data/nofield.csv"},
        "not a resource",
    ]
    write_package(package, resources)
    measures = check_package(package, K, L, MIN_CELL)
    assert [(m.resource, m.problems) for m in measures] == [
        ("outside", ["bad-path"]),
        ("absolute", ["bad-path"]),
        ("gone", ["missing-file"]),
        ("nofield", ["field-missing:age"]),
        ("latin1", ["unreadable"]),
        ("empty", ["no-header"]),
        ("spss", ["not-csv"]),
        ("noschema", ["bad-schema"]),
        ("?", ["bad-resource"]),
    ]
    assert not any(m.passed for m in measures)


def test_a_schema_kept_in_its_own_file_is_read(tmp_path):
    rows = people(12, "30-39", "Nord")
    resource = write_microdata(tmp_path, "answers", FIELDS, rows)
    (tmp_path / "answers.schema.json").write_text(json.dumps(resource["schema"]), "utf-8")
    write_package(tmp_path, [{**resource, "schema": "answers.schema.json"}])
    (measure,) = check_package(tmp_path, K, L, MIN_CELL)
    assert (measure.k, measure.l, measure.passed) == (12, 2, True)
