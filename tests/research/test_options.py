"""A request's options read from a form: the deployment's minimums bound them from below,
every problem is a translated field error, and what is stored reads back the same."""

from datetime import date

import pytest
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from app.errors import Invalid
from research.options import ExportOptions, option_problems, parse_options

CONFIG = {"RESEARCH_MIN_K": 10, "RESEARCH_MIN_L": 2, "RESEARCH_MIN_CELL": 10}


@pytest.fixture(autouse=True)
def _context(app):
    with app.app_context():
        yield


def problems(form, locale="en") -> dict:
    with force_locale(locale), pytest.raises(Invalid) as caught:
        parse_options(form, CONFIG)
    return caught.value.errors


def test_an_empty_form_takes_the_minimums():
    options = parse_options({}, CONFIG)
    assert options == ExportOptions(k=10, l=2, min_cell=10)
    assert options.period.starts_on is None


def test_a_full_form_from_the_console():
    form = MultiDict(
        [
            ("k", "15"),
            ("l", "3"),
            ("min_cell", "20"),
            ("formats", "dta"),
            ("formats", "sav"),
            ("include_text", "on"),
            ("quasi", "age_band"),
            ("quasi", "district"),
            ("sensitive", "health"),
            ("starts_on", "2026-01-01"),
            ("ends_on", "2026-03-31"),
        ]
    )
    options = parse_options(form, CONFIG)
    assert options.k == 15 and options.l == 3 and options.min_cell == 20
    assert options.formats == ["sav", "dta"]  # in the list's order
    assert options.include_text is True
    assert options.quasi == ["age_band", "district"]
    assert options.sensitive == ["health"]
    assert options.period.starts_on == date(2026, 1, 1)
    assert options.period.ends_on == date(2026, 3, 31)


def test_lists_may_come_as_comma_separated_text():
    options = parse_options({"quasi": "a, b,,a", "formats": ["sav"]}, CONFIG)
    assert options.quasi == ["a", "b"]
    assert options.formats == ["sav"]


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"k": "9"}, "k"),  # below the deployment's minimum
        ({"k": "ten"}, "k"),
        ({"k": "1001"}, "k"),
        ({"l": "0"}, "l"),
        ({"k": "10", "l": "11"}, "l"),  # a group of 10 cannot show 11 values
        ({"min_cell": "5"}, "min_cell"),
        ({"formats": "xlsx"}, "formats"),
        ({"quasi": "Robert'); DROP TABLE"}, "quasi"),
        ({"quasi": "a", "sensitive": "a"}, "sensitive"),
        ({"starts_on": "01/02/2026"}, "starts_on"),
        ({"starts_on": "2026-02-01", "ends_on": "2026-01-01"}, "ends_on"),
    ],
)
def test_each_problem_is_a_field_error(form, field):
    assert list(problems(form)) == [field]


def test_errors_are_translated(translate):
    errors = problems({"k": "3"}, locale="fr")
    assert errors["k"] == [
        translate("fr", "Enter a number from %(low)d to %(high)d.", low=10, high=1000)
    ]


def test_stored_options_read_back_the_same():
    options = parse_options(
        {"k": "12", "formats": "sav", "quasi": "district", "starts_on": "2026-01-05"}, CONFIG
    )
    assert ExportOptions.from_json(options.to_json()) == options
    assert options.to_json()["starts_on"] == "2026-01-05"


def test_options_made_in_code_are_checked_the_same_way():
    assert option_problems(ExportOptions(k=10, l=2, min_cell=10), CONFIG) == {}
    assert set(option_problems(ExportOptions(k=3, l=2, min_cell=2), CONFIG)) == {"k", "min_cell"}
