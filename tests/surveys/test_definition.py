"""Saving a survey definition: what is refused, with which message, and what is kept."""

import copy

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import Invalid
from surveys.definition import blank_definition, localized
from surveys.definition_check import check_definition
from tests.surveys import choices, q, sample, t

LOCALES = ["fr", "en"]


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def errors_of(definition, locales=LOCALES) -> dict:
    with pytest.raises(Invalid) as caught:
        check_definition(definition, locales)
    return caught.value.errors


def questions(definition) -> list:
    return definition["pages"][0]["questions"]


def with_question(question: dict, *before: dict) -> dict:
    return {"title": t("S"), "pages": [{"key": "p", "questions": [*before, question]}]}


def test_a_full_definition_is_kept():
    checked = check_definition(sample(), LOCALES)
    assert [p["key"] for p in checked["pages"]] == ["home", "gas"]
    heating = questions(checked)[1]
    assert heating["choices"][2] == {"value": "heat_pump", "label": t("heat_pump")}
    assert heating["required"] is True and heating["other"] is True
    # Defaults are written out, so clients and validation read one shape.
    assert questions(checked)[2]["required"] is False
    assert questions(checked)[6]["scale"] == {"min": 1, "max": 5}
    assert check_definition(checked, LOCALES) == checked


def test_a_blank_definition_is_valid():
    blank = blank_definition({"fr": " Chauffage ", "en": ""})
    assert check_definition(blank, LOCALES) == {
        "title": {"fr": "Chauffage"},
        "pages": [{"key": "page_1", "questions": []}],
    }


def test_texts_are_stripped_and_empty_translations_dropped():
    definition = sample()
    definition["introduction"] = {"fr": "  Bonjour ", "en": "   "}
    definition["closing"] = {"fr": "", "en": ""}
    checked = check_definition(definition, LOCALES)
    assert checked["introduction"] == {"fr": "Bonjour"}
    assert "closing" not in checked


def test_title_is_required_in_the_main_language(translate):
    definition = sample()
    definition["title"] = {"en": "Heating"}
    assert errors_of(definition) == {"title": ["A text in French is required."]}
    definition["title"] = {"fr": "Chauffage", "de": "Heizung"}
    assert "Not a language of this city: de" in errors_of(definition)["title"]


def test_errors_are_translated(translate):
    definition = sample()
    definition["colour"] = "red"
    with force_locale("fr"):
        errors = errors_of(definition)
    assert errors == {"colour": [translate("fr", "Unknown field.")]}
    assert translate("fr", "Unknown field.") != "Unknown field."


@pytest.mark.parametrize(
    "path, change",
    [
        ("pages.0.colour", lambda d: d["pages"][0].update(colour=1)),
        ("pages.0.questions.1.colour", lambda d: questions(d)[1].update(colour=1)),
        (
            "pages.0.questions.1.choices.0.colour",
            lambda d: questions(d)[1]["choices"][0].update(colour=1),
        ),
        ("pages.0.questions.5.scale.colour", lambda d: questions(d)[5]["scale"].update(colour=1)),
        ("pages.0.questions.2.min_selections", lambda d: questions(d)[2].update(min_selections=1)),
        (
            "pages.0.questions.10.text.pattern",
            lambda d: questions(d)[10]["text"].update(pattern="x"),
        ),
        ("pages.0.questions.0.required", lambda d: questions(d)[0].update(required=True)),
    ],
)
def test_unknown_and_misplaced_settings_are_refused(path, change):
    definition = sample()
    change(definition)
    assert errors_of(definition) == {path: ["Unknown field."]}


@pytest.mark.parametrize(
    "path, change",
    [
        ("pages.0.key", lambda d: d["pages"][0].update(key="Home")),
        ("pages.1.key", lambda d: d["pages"][1].update(key="home")),
        ("pages.0.questions.2.key", lambda d: questions(d)[2].update(key="1floor")),
        ("pages.0.questions.2.key", lambda d: questions(d)[2].update(key="x" * 65)),
        ("pages.1.questions.1.key", lambda d: d["pages"][1]["questions"][1].update(key="floor")),
        (
            "pages.0.questions.1.choices.1.value",
            lambda d: questions(d)[1]["choices"][1].update(value="gas"),
        ),
        (
            "pages.0.questions.1.choices.1.value",
            lambda d: questions(d)[1]["choices"][1].update(value="other"),
        ),
        (
            "pages.0.questions.1.choices.1.value",
            lambda d: questions(d)[1]["choices"][1].update(value="Oil!"),
        ),
        (
            "pages.0.questions.13.rows.1.key",
            lambda d: questions(d)[13]["rows"][1].update(key="winter"),
        ),
        (
            "pages.0.questions.1.choices.0.label",
            lambda d: questions(d)[1]["choices"][0].update(label={"en": "Gas"}),
        ),
        ("pages.0.questions.3.title", lambda d: questions(d)[3].pop("title")),
        ("pages.0.questions.3.type", lambda d: questions(d)[3].update(type="slider")),
    ],
)
def test_keys_codes_and_labels(path, change):
    definition = sample()
    change(definition)
    assert list(errors_of(definition)) == [path]


@pytest.mark.parametrize(
    "question, path",
    [
        (q("a", "single_choice", choices=[]), "choices"),
        (q("a", "single_choice"), "choices"),
        (q("a", "ranking", choices=choices("x")), "choices"),
        (
            q(
                "a",
                "multiple_choice",
                choices=choices("x", "y"),
                min_selections=2,
                max_selections=1,
            ),
            "max_selections",
        ),
        (q("a", "multiple_choice", choices=choices("x", "y"), max_selections=3), "max_selections"),
        (q("a", "multiple_choice", choices=choices("x", "y"), min_selections=3), "min_selections"),
        (q("a", "multiple_choice", choices=choices("x"), min_selections=True), "min_selections"),
        (q("a", "multiple_choice", choices=choices("x"), max_selections=0), "max_selections"),
        (q("a", "single_choice", choices=choices("x"), other="yes"), "other"),
        (q("a", "scale", scale={"min": 0, "max": 11}), "scale"),
        (q("a", "scale", scale={"min": 3, "max": 3}), "scale"),
        (q("a", "scale", scale={"min": 1}), "scale"),
        (q("a", "scale", scale={"min": 1.5, "max": 3}), "scale.min"),
        (q("a", "rating", scale=[1, 5]), "scale"),
        (q("a", "number", number={"min": 5, "max": 5}), "number"),
        (q("a", "number", number={"integer": True, "min": 0.5}), "number.min"),
        (q("a", "number", number={"min": float("nan")}), "number.min"),
        (q("a", "number", number={"max": float("inf")}), "number.max"),
        (q("a", "number", number={"max": True}), "number.max"),
        (q("a", "number", number={"max": "10"}), "number.max"),
        (q("a", "short_text", text={"max_length": 10_001}), "text.max_length"),
        (q("a", "long_text", text={"max_length": 0}), "text.max_length"),
        (q("a", "short_text", text={"pattern": "("}), "text.pattern"),
        (q("a", "short_text", text={"pattern": "a" * 201}), "text.pattern"),
        (q("a", "short_text", text={"pattern": "(a+)+b"}), "text.pattern"),
        (q("a", "short_text", text={"pattern": "(a|aa)*b"}), "text.pattern"),
        (q("a", "short_text", text={"pattern": "a*a*a*a*b"}), "text.pattern"),
        (q("a", "date", date={"min": "01/02/2024"}), "date.min"),
        (q("a", "date", date={"min": "20240101"}), "date.min"),
        (q("a", "date", date={"max": "2024-02-30"}), "date.max"),
        (q("a", "date", date={"min": "2024-02-01", "max": "2024-01-01"}), "date"),
        (q("a", "matrix", rows=[]), "rows"),
        (q("a", "matrix"), "rows"),
    ],
)
def test_type_settings_are_checked(question, path):
    assert list(errors_of(with_question(question))) == [f"pages.0.questions.0.{path}"]


def test_sane_settings_pass():
    checked = check_definition(
        with_question(
            q("a", "short_text", text={"pattern": r"[A-Z]{2}-\d{3,5}"}),
        ),
        LOCALES,
    )
    assert questions(checked)[0]["text"] == {"max_length": 500, "pattern": r"[A-Z]{2}-\d{3,5}"}


# --- conditions ----------------------------------------------------------------------------


def conditioned(condition, on_page=False) -> dict:
    definition = sample()
    target = definition["pages"][1] if on_page else definition["pages"][1]["questions"][0]
    target["show_if"] = condition
    return definition


@pytest.mark.parametrize(
    "condition",
    [
        {"question": "heating", "op": "equals", "value": "other"},
        {"question": "heating", "op": "not_equals", "value": "oil"},
        {"question": "uses", "op": "any_of", "value": ["cook", "water"]},
        {"question": "owner", "op": "equals", "value": False},
        {"question": "comfort", "op": "gt", "value": 2},
        {"question": "temp", "op": "lt", "value": 19.5},
        {"question": "moved", "op": "gt", "value": "2000-01-01"},
        {"question": "postcode", "op": "equals", "value": "69001"},
        {"question": "grid", "op": "answered"},
        {"question": "priorities", "op": "not_answered"},
        {
            "all": [
                {"question": "owner", "op": "answered"},
                {
                    "any": [
                        {"question": "stars", "op": "gt", "value": 3},
                        {"question": "rooms", "op": "lt", "value": 2},
                    ]
                },
            ]
        },
    ],
)
def test_well_formed_conditions_pass(condition):
    for on_page in (False, True):
        checked = check_definition(conditioned(condition, on_page), LOCALES)
        target = checked["pages"][1] if on_page else checked["pages"][1]["questions"][0]
        assert target["show_if"] == condition


@pytest.mark.parametrize(
    "condition, message",
    [
        (
            {"question": "service", "op": "answered"},
            "“service” does not come before this question.",
        ),
        (
            {"question": "boiler_age", "op": "answered"},
            "“boiler_age” does not come before this question.",
        ),
        (
            {"question": "deleted", "op": "answered"},
            "There is no question “deleted” in this survey.",
        ),
        ({"question": "intro", "op": "answered"}, "“intro” does not come before this question."),
        (
            {"question": "heating", "op": "equals", "value": "coal"},
            "The value does not fit question “heating”.",
        ),
        (
            {"question": "owner", "op": "equals", "value": 1},
            "The value does not fit question “owner”.",
        ),
        (
            {"question": "rooms", "op": "equals", "value": "3"},
            "The value does not fit question “rooms”.",
        ),
        (
            {"question": "heating", "op": "gt", "value": 3},
            "“gt” needs a number (or a date for a date question).",
        ),
        (
            {"question": "rooms", "op": "lt", "value": "3"},
            "“lt” needs a number (or a date for a date question).",
        ),
        (
            {"question": "rooms", "op": "lt", "value": float("nan")},
            "“lt” needs a number (or a date for a date question).",
        ),
        (
            {"question": "rooms", "op": "lt", "value": True},
            "“lt” needs a number (or a date for a date question).",
        ),
        (
            {"question": "heating", "op": "any_of", "value": []},
            "“any_of” takes a list of 1 to 100 values.",
        ),
        (
            {"question": "heating", "op": "any_of", "value": "gas"},
            "“any_of” takes a list of 1 to 100 values.",
        ),
        ({"question": "heating", "op": "answered", "value": "gas"}, "“answered” takes no value."),
        (
            {"question": "grid", "op": "equals", "value": "x"},
            "Answers to “grid” can only be tested for being answered.",
        ),
        ({"question": "heating", "op": "like", "value": "gas"}, "Not a valid condition."),
        ({"question": "heating", "op": "answered", "extra": 1}, "Not a valid condition."),
        ("heating == 'gas'", "Not a valid condition."),
        ({"all": []}, "“all” and “any” take a non-empty list of conditions."),
        (
            {"any": {"question": "heating", "op": "answered"}},
            "“all” and “any” take a non-empty list of conditions.",
        ),
        (
            {"all": [{"question": "owner", "op": "answered"}], "any": []},
            "“all” and “any” take a non-empty list of conditions.",
        ),
        (
            {"all": [{"question": "owner", "op": "answered"}] * 21},
            "At most 20 conditions in one group.",
        ),
    ],
)
def test_bad_conditions_are_refused(condition, message):
    assert errors_of(conditioned(condition)) == {"pages.1.questions.0.show_if": [message]}


def test_a_page_condition_may_not_use_its_own_questions():
    errors = errors_of(conditioned({"question": "boiler_age", "op": "answered"}, on_page=True))
    assert errors == {"pages.1.show_if": ["“boiler_age” does not come before this question."]}


def test_nesting_is_bounded():
    condition = {"question": "owner", "op": "answered"}
    for _level in range(4):
        condition = {"all": [condition]}
    check_definition(conditioned(condition), LOCALES)
    errors = errors_of(conditioned({"any": [condition]}))
    assert errors == {
        "pages.1.questions.0.show_if": ["Conditions are nested too deeply (at most 5 levels)."]
    }


def test_deleting_a_question_others_depend_on_is_refused():
    definition = sample()
    del questions(definition)[1]  # heating, which the "gas" page depends on
    assert errors_of(definition) == {
        "pages.1.show_if": ["There is no question “heating” in this survey."]
    }


# --- size and shape --------------------------------------------------------------------------


def test_too_many_questions_or_choices():
    many = [q(f"q{i}", "yes_no") for i in range(201)]
    assert errors_of({"title": t("S"), "pages": [{"key": "p", "questions": many}]}) == {
        "pages": ["At most 200 questions."]
    }
    huge = q("a", "dropdown", choices=choices(*[f"c{i}" for i in range(301)]))
    assert list(errors_of(with_question(huge))) == ["pages.0.questions.0.choices"]


@pytest.mark.parametrize(
    "definition",
    [
        [],
        "survey",
        {"title": "Heating", "pages": []},
        {"title": t("S"), "pages": {"key": "p"}},
        {"title": t("S"), "pages": ["p"]},
        {"title": t("S"), "pages": [{"key": "p", "questions": "abc"}]},
        {"title": t("S"), "pages": [{"key": "p", "questions": [["q"]]}]},
        {"title": {"fr": 3}, "pages": [{"key": "p"}]},
        {"title": t("S"), "pages": [{"key": 7, "questions": [{"key": None, "type": None}]}]},
    ],
)
def test_wrong_json_types_give_errors(definition):
    assert errors_of(definition)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "key",
                    "type",
                    "title",
                    "pages",
                    "questions",
                    "choices",
                    "show_if",
                    "fr",
                    "value",
                    "question",
                    "op",
                    "all",
                    "scale",
                    "min",
                    "max",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(json_values)
def test_any_json_is_either_accepted_or_refused_with_errors(value):
    try:
        checked = check_definition(value, LOCALES)
    except Invalid as invalid:
        assert invalid.errors
    else:
        assert check_definition(copy.deepcopy(checked), LOCALES) == checked


# --- reading ---------------------------------------------------------------------------------


def test_localized_resolves_every_text_for_one_reader():
    definition = check_definition(sample(), LOCALES)
    questions(definition)[1]["help"] = {"fr": "Aide"}
    questions(definition)[1]["choices"][0]["label"] = {"fr": "Gaz", "en": "Gas"}
    readable = localized(definition, "en", "fr")
    heating = questions(readable)[1]
    assert readable["title"] == "Heating"
    assert heating["help"] == "Aide"  # fell back to the city's language
    assert heating["choices"][0] == {"value": "gas", "label": "Gas"}
    assert questions(readable)[5]["scale"]["min_label"] == "Cold"
    assert questions(readable)[13]["rows"][0] == {"key": "winter", "label": "Winter"}
    assert readable["pages"][1]["show_if"] == definition["pages"][1]["show_if"]
    assert readable["locales"] == ["en", "fr"]
    assert localized(definition, "fr", "fr")["locales"] == ["fr"]
    # German readers get the city's language, and optional texts with nothing are left out.
    questions(definition)[1]["help"] = {}
    german = localized(definition, "de", "fr")
    assert german["locales"] == ["fr"] and "help" not in questions(german)[1]


@pytest.mark.parametrize("questions", [True, 3, "q", {"key": "q"}])
def test_questions_that_are_not_a_list_are_refused(questions):
    definition = {"title": t("Survey"), "pages": [{"key": "p", "questions": questions}]}
    with pytest.raises(Invalid) as refused:
        check_definition(definition, LOCALES)
    assert list(refused.value.errors) == ["pages.0.questions"]
