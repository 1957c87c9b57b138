"""Skip logic: every operator, and/or nesting, and what residents see."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.logic import evaluate, visible_questions
from tests.surveys import sample


def c(op, value=None, question="a"):
    condition = {"question": question, "op": op}
    if value is not None:
        condition["value"] = value
    return condition


@pytest.mark.parametrize(
    "condition, answers, expected",
    [
        (None, {}, True),
        (c("equals", "gas"), {"a": "gas"}, True),
        (c("equals", "gas"), {"a": "oil"}, False),
        (c("equals", "gas"), {}, False),
        (c("equals", "gas"), {"a": ["oil", "gas"]}, True),  # multiple choice: among the chosen
        (c("equals", 3), {"a": 3.0}, True),
        (c("equals", 1), {"a": True}, False),  # true is not 1
        (c("equals", True), {"a": 1}, False),
        (c("equals", False), {"a": False}, True),
        (c("not_equals", "gas"), {"a": "oil"}, True),
        (c("not_equals", "gas"), {"a": "gas"}, False),
        (c("not_equals", "gas"), {}, True),  # holds while unanswered
        (c("not_equals", "gas"), {"a": ["gas"]}, False),
        (c("any_of", ["gas", "oil"]), {"a": "oil"}, True),
        (c("any_of", ["gas", "oil"]), {"a": "wood"}, False),
        (c("any_of", ["gas", "oil"]), {"a": ["wood", "oil"]}, True),
        (c("any_of", "gas"), {"a": "gas"}, False),  # malformed: false, not an error
        (c("gt", 3), {"a": 4}, True),
        (c("gt", 3), {"a": 3}, False),
        (c("gt", 3), {}, False),
        (c("gt", 3), {"a": "4"}, False),
        (c("gt", 3), {"a": True}, False),
        (c("gt", 3), {"a": float("nan")}, False),
        (c("lt", 3), {"a": 2.5}, True),
        (c("lt", 3), {"a": 3}, False),
        (c("lt", 3), {"a": float("-inf")}, False),
        (c("gt", "2020-01-01"), {"a": "2020-01-02"}, True),
        (c("lt", "2020-01-01"), {"a": "2020-01-02"}, False),
        (c("lt", "2020-01-01"), {"a": "2019-13-01"}, False),
        (c("answered"), {"a": 0}, True),
        (c("answered"), {"a": False}, True),
        (c("answered"), {"a": "  "}, False),
        (c("answered"), {"a": []}, False),
        (c("answered"), {"a": {}}, False),
        (c("answered"), {"a": None}, False),
        (c("not_answered"), {}, True),
        (c("not_answered"), {"a": "x"}, False),
        (c("like", "x"), {"a": "x"}, False),
        ({"question": 3, "op": "answered"}, {3: "x"}, False),
        ("a == 1", {"a": 1}, False),
        ({"all": []}, {}, False),
    ],
)
def test_operators(condition, answers, expected):
    assert evaluate(condition, answers) is expected


def test_all_and_any_nest():
    answers = {"a": "gas", "b": 12, "c": True}
    both = {"all": [c("equals", "gas"), c("gt", 10, "b")]}
    assert evaluate(both, answers)
    assert not evaluate({"all": [c("equals", "gas"), c("gt", 20, "b")]}, answers)
    assert evaluate({"any": [c("equals", "oil"), c("gt", 10, "b")]}, answers)
    assert not evaluate({"any": [c("equals", "oil"), c("not_answered", None, "c")]}, answers)
    assert evaluate({"any": [c("equals", "oil"), {"all": [both, c("equals", True, "c")]}]}, answers)


def test_too_deep_nesting_is_false():
    condition = c("answered")
    for _level in range(4):
        condition = {"all": [condition]}
    assert evaluate(condition, {"a": 1})
    assert not evaluate({"all": [condition]}, {"a": 1})


def keys(definition, answers) -> list[str]:
    return [question["key"] for question in visible_questions(definition, answers)]


def test_visible_questions_follow_page_and_question_conditions():
    definition = sample()
    first_page = [q["key"] for q in definition["pages"][0]["questions"]]
    assert keys(definition, {}) == first_page  # notes are included
    assert keys(definition, {"heating": "gas"}) == [*first_page, "boiler_age"]
    assert keys(definition, {"heating": "gas", "boiler_age": 11}) == [
        *first_page,
        "boiler_age",
        "service",
    ]


def test_answers_of_hidden_questions_do_not_show_others():
    # The resident said gas, an old boiler, then switched to oil: the boiler question is gone,
    # and so is the question that depended on it.
    answers = {"heating": "oil", "boiler_age": 11}
    assert "service" not in keys(sample(), answers)
    assert "boiler_age" not in keys(sample(), answers)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=10,
)
conditions = st.recursive(
    st.fixed_dictionaries(
        {
            "question": st.sampled_from(["a", "b"]),
            "op": st.sampled_from(
                ["equals", "not_equals", "any_of", "gt", "lt", "answered", "not_answered", "?"]
            ),
            "value": json_values,
        }
    ),
    lambda inner: (
        st.dictionaries(st.sampled_from(["all", "any"]), st.lists(inner), max_size=2) | json_values
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(conditions, st.dictionaries(st.sampled_from(["a", "b", "c"]), json_values))
def test_random_conditions_and_answers_never_raise(condition, answers):
    assert evaluate(condition, answers) in (True, False)


@settings(max_examples=100)
@given(st.dictionaries(st.sampled_from(["heating", "boiler_age", "owner"]), json_values))
def test_random_answers_never_break_visibility(answers):
    visible = keys(sample(), answers)
    assert visible[:2] == ["intro", "heating"]
