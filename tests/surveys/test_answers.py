"""A resident's answers: checked for drafts and submissions, normalized, fingerprinted, rows."""

import pytest
from flask_babel import force_locale
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.answers import answer_rows, fingerprint, normalized, validate
from surveys.definition_check import check_definition
from tests.surveys import sample

DEFINITION = sample()
#: Answers to every question of the first page, all valid.
FULL = {
    "heating": "gas",
    "floor": "3",
    "uses": ["cook", "other"],
    "uses.other": "  sauna ",
    "owner": True,
    "comfort": 4,
    "stars": 5.0,
    "rooms": 3.0,
    "temp": 19.5,
    "postcode": " 69001 ",
    "remarks": "Cold in winter.",
    "moved": "2015-09-01",
    "priorities": ["climate", "cost", "comfort"],
    "grid": {"winter": 1, "summer": 3},
    "boiler_age": 12,
    "service": False,
}


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def test_full_answers_are_valid_and_normalized():
    assert validate(DEFINITION, FULL, complete=True) == {}
    stored = normalized(DEFINITION, FULL)
    assert stored["uses.other"] == "sauna"
    assert stored["postcode"] == "69001"
    assert stored["stars"] == 5 and isinstance(stored["stars"], int)
    assert stored["rooms"] == 3 and isinstance(stored["rooms"], int)
    assert stored["temp"] == 19.5
    assert set(stored) == set(FULL)
    # The definition as saved (defaults written out) reads the same.
    saved = check_definition(sample(), ["fr", "en"])
    assert validate(saved, FULL, complete=True) == {}
    assert normalized(saved, FULL) == stored


def answer(key, value, complete=False, **more) -> dict:
    return validate(DEFINITION, {key: value, **more}, complete=complete)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("heating", "coal", "Not one of the options."),
        ("heating", ["gas"], "Not one of the options."),
        ("floor", 3, "Not one of the options."),
        ("uses", "cook", "Not a valid list."),
        ("uses", ["cook", 1], "Not a valid list."),
        ("uses", ["cook", "cook"], "Each option may be chosen once."),
        ("uses", ["cook"] * 100_000, "Each option may be chosen once."),
        ("uses", ["cook", "x"], "Not one of the options."),
        ("uses", ["cook", "water", "rooms"], "Choose at most 2 options."),
        ("owner", "yes", "Not a valid yes/no value."),
        ("owner", 1, "Not a valid yes/no value."),
        ("comfort", 6, "Choose a value from 1 to 5."),
        ("comfort", 2.5, "Choose a value from 1 to 5."),
        ("comfort", True, "Choose a value from 1 to 5."),
        ("stars", "5", "Choose a value from 1 to 5."),
        ("rooms", 2.5, "Not a valid whole number."),
        ("rooms", 0, "Must be at least 1."),
        ("rooms", 21, "Must be at most 20."),
        ("rooms", True, "Not a valid number."),
        ("temp", float("nan"), "Not a valid number."),
        ("temp", float("inf"), "Not a valid number."),
        ("temp", 1e300, "Not a valid number."),
        ("temp", "19", "Not a valid number."),
        ("temp", 9.9, "Must be at least 10."),
        ("postcode", "6900", "Does not have the expected form."),
        ("postcode", "69001x", "Does not have the expected form."),
        ("postcode", "1" * 11, "Longer than the maximum length of 10."),
        ("postcode", 69001, "Not a valid text."),
        ("remarks", "x" * 51, "Longer than the maximum length of 50."),
        ("moved", "2015-02-30", "Not a valid date."),
        ("moved", "01/09/2015", "Not a valid date."),
        ("moved", 2015, "Not a valid date."),
        ("moved", "1949-12-31", "Must be on or after 1950-01-01."),
        ("moved", "2031-01-01", "Must be on or before 2030-12-31."),
        ("priorities", ["cost", "cost"], "Each option may be chosen once."),
        ("priorities", ["cost", "wood"], "Not one of the options."),
        ("grid", [1, 2], "Not a valid object."),
        ("grid", {"autumn": 2}, "Not a row of this question."),
        ("grid", {"winter": 4}, "Choose a value from 1 to 3."),
        ("grid", {"winter": "1"}, "Choose a value from 1 to 3."),
    ],
)
def test_wrong_values_are_refused_even_in_drafts(key, value, message):
    assert answer(key, value) == {key: [message]}
    assert key not in normalized(DEFINITION, {key: value})


def test_other_text_must_be_short_text():
    message = "Please specify in at most 500 characters."
    assert answer("heating", "other", **{"heating.other": 3}) == {"heating": [message]}
    assert answer("heating", "other", **{"heating.other": "x" * 501}) == {"heating": [message]}


def test_unknown_keys_are_refused():
    errors = validate(
        DEFINITION, {"colour": "red", "intro": "x", "floor.other": "x"}, complete=False
    )
    assert errors == {
        k: ["Not a question of this survey."] for k in ("colour", "intro", "floor.other")
    }
    assert validate(DEFINITION, ["heating"], complete=False) == {"answers": ["Not a valid object."]}
    huge = {f"k{i}": 1 for i in range(10_000)}
    assert validate(DEFINITION, huge, complete=False) == {"answers": ["Too many answers."]}


def test_a_draft_may_leave_out_required_questions_and_selections():
    assert validate(DEFINITION, {}, complete=False) == {}
    assert validate(DEFINITION, {"heating": "other", "uses": []}, complete=False) == {}
    assert (
        validate(DEFINITION, {"priorities": ["cost"], "grid": {"winter": 2}}, complete=False) == {}
    )


def test_submitting_asks_for_required_visible_questions():
    assert validate(DEFINITION, {}, complete=True) == {
        "heating": ["Please answer this question."],
        "owner": ["Please answer this question."],
    }
    # Gas shows the gas page, whose questions are required; an old boiler shows the service one.
    errors = validate(DEFINITION, {"heating": "gas", "owner": "  "}, complete=True)
    assert set(errors) == {"owner", "boiler_age"}
    errors = validate(
        DEFINITION, {"heating": "gas", "owner": True, "boiler_age": 20}, complete=True
    )
    assert errors == {"service": ["Please answer this question."]}
    assert validate(DEFINITION, {"heating": "oil", "owner": False}, complete=True) == {}


def test_submitting_checks_completeness_of_what_was_answered():
    base = {"heating": "oil", "owner": False}
    assert validate(DEFINITION, {**base, "uses": ["cook"]}, complete=True) == {}
    assert validate(DEFINITION, {**base, "heating": "other"}, complete=True) == {
        "heating": ["Please specify your other answer."]
    }
    assert (
        validate(DEFINITION, {**base, "heating": "other", "heating.other": "wood"}, complete=True)
        == {}
    )
    # Optional ranking and matrix may be partial; required ones are not.
    partial = {**base, "priorities": ["cost"], "grid": {"winter": 2}}
    assert validate(DEFINITION, partial, complete=True) == {}
    definition = sample()
    for question in definition["pages"][0]["questions"][-2:]:
        question["required"] = True
    assert validate(definition, partial, complete=True) == {
        "priorities": ["Please put every option in order."],
        "grid": ["Please answer every row."],
    }


def test_fewest_selections_on_submitting():
    definition = sample()
    definition["pages"][0]["questions"][3]["min_selections"] = 2
    answers = {"heating": "oil", "owner": False, "uses": ["cook"]}
    assert validate(definition, answers, complete=False) == {}
    assert validate(definition, answers, complete=True) == {"uses": ["Choose at least 2 options."]}


def test_errors_are_translated(translate):
    with force_locale("fr"):
        errors = validate(DEFINITION, {"moved": "yesterday", "colour": 1}, complete=True)
    assert errors["moved"] == [translate("fr", "Not a valid date.")]
    assert errors["heating"] == [translate("fr", "Please answer this question.")]
    assert translate("fr", "Not a valid date.") != "Not a valid date."


def test_hidden_answers_are_not_checked_and_are_dropped():
    answers = {"heating": "oil", "owner": True, "boiler_age": "very old", "service": True}
    assert validate(DEFINITION, answers, complete=True) == {}
    assert normalized(DEFINITION, answers) == {"heating": "oil", "owner": True}


def test_other_text_is_kept_only_when_other_is_chosen():
    answers = {"heating": "gas", "heating.other": "wood", "uses": ["other"], "uses.other": " "}
    assert normalized(DEFINITION, answers) == {"heating": "gas", "uses": ["other"]}


def test_normalized_is_stable_and_drops_empty_values():
    stored = normalized(
        DEFINITION, {**FULL, "remarks": "   ", "floor": None, "grid": {"winter": None}}
    )
    assert "remarks" not in stored and "floor" not in stored and "grid" not in stored
    assert normalized(DEFINITION, stored) == stored


def test_fingerprint_is_canonical():
    one = normalized(DEFINITION, FULL)
    other = normalized(DEFINITION, dict(reversed(list(FULL.items()))) | {"rooms": 3, "stars": 5})
    assert fingerprint(one) == fingerprint(other)
    assert len(fingerprint(one)) == 64
    assert fingerprint(one) != fingerprint({**one, "comfort": 3})


def test_answer_rows():
    rows = answer_rows(DEFINITION, {**FULL, "heating": "other", "heating.other": "wood"})

    def of(key):
        return [
            {k: v for k, v in row.items() if v is not None and k != "question"}
            for row in rows
            if row["question"] == key
        ]

    assert all(set(row) == {"question", "item", "choice", "number", "text"} for row in rows)
    assert of("heating") == [{"choice": "other", "text": "wood"}]
    assert of("floor") == [{"choice": "3"}]
    assert of("uses") == [{"choice": "cook"}, {"choice": "other", "text": "sauna"}]
    assert of("owner") == [{"choice": "yes"}]
    assert of("comfort") == [{"number": 4}]
    assert of("temp") == [{"number": 19.5}]
    assert of("postcode") == [{"text": "69001"}]
    assert of("moved") == [{"text": "2015-09-01"}]
    assert of("priorities") == [
        {"choice": "climate", "number": 1},
        {"choice": "cost", "number": 2},
        {"choice": "comfort", "number": 3},
    ]
    assert of("grid") == [{"item": "winter", "number": 1}, {"item": "summer", "number": 3}]
    # The gas page is hidden with "other": its answers give no rows.
    assert of("boiler_age") == [] and of("intro") == []
    assert of("service") == []


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
keys = st.sampled_from([*FULL, "heating.other", "intro", "x"])


@settings(max_examples=200)
@given(st.dictionaries(keys, json_values), st.booleans())
def test_random_answers_give_errors_not_exceptions(answers, complete):
    errors = validate(DEFINITION, answers, complete=complete)
    assert all(isinstance(m, str) for messages in errors.values() for m in messages)
    stored = normalized(DEFINITION, answers)
    assert validate(DEFINITION, stored, complete=False) == {}
    fingerprint(stored)
    answer_rows(DEFINITION, answers)
