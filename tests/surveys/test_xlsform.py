"""Importing XLSForms: the real forms in tests/fixtures/xlsform, counts from its README."""

import io
import zipfile
from pathlib import Path

import pytest

from app.errors import Invalid
from surveys import service
from surveys.definition_check import check_definition
from surveys.xlsform import import_survey, import_xlsform
from surveys.xlsform_workbook import MAX_UPLOAD_BYTES

FORMS = Path(__file__).resolve().parents[1] / "fixtures" / "xlsform"
LOCALES = ["en", "de"]

#: file → (questions, languages, relevant, constraint, required, choice lists, choices).
README = {
    "example_xls_xlsform_spec_test.xlsx": (28, ["english", "chinese"], 2, 2, 2, 2, 4),
    # The README gives 0 / 0 / 0 here, but the file's legacy ``bind:relevant`` and
    # ``bind:constraint`` columns hold 4 conditions and 2 constraints, which we import.
    "example_xls_tutorial.xls": (10, [], 4, 2, 0, 3, 7),
    "example_xls_choice_filter_test.xlsx": (3, [], 0, 0, 0, 3, 14),
    "example_xls_text_and_integer.xlsx": (2, [], 0, 0, 0, 0, 0),
    "example_xls_yes_or_no_question.xlsx": (1, [], 0, 0, 0, 1, 2),
    "testA.xlsx": (21, [], 2, 0, 12, 9, 46),
    "all_types_survey.xlsx": (29, [], 2, 1, 2, 5, 15),
}


def load(name: str, locales=LOCALES):
    return import_xlsform((FORMS / name).read_bytes(), locales, name)


def questions(definition: dict) -> dict:
    return {q["key"]: q for page in definition["pages"] for q in page["questions"]}


def reported(result, sheet="survey") -> dict:
    rows: dict = {}
    for entry in result.report:
        if entry["sheet"] == sheet:
            where = (entry["row"], entry["column"])
            rows[where] = " ".join(filter(None, [rows.get(where), entry["reason"]]))
    return rows


@pytest.mark.parametrize("name", sorted(README))
def test_every_form_imports_with_the_documented_counts(app, name):
    result = load(name)
    total, languages, relevant, constraint, required, lists, choices = README[name]
    counts = result.counts
    assert counts["questions"] == total
    assert counts["languages"] == languages
    assert (counts["relevant"], counts["constraint"], counts["required"]) == (
        relevant,
        constraint,
        required,
    )
    assert (counts["choice_lists"], counts["choices"]) == (lists, choices)
    assert check_definition(result.definition, LOCALES) == result.definition


def test_all_types_maps_types_groups_and_logic(app):
    result = load("all_types_survey.xlsx", ["de", "en"])
    found = questions(result.definition)
    assert found["q_string"]["type"] == "short_text"
    assert found["q_int"]["number"] == {"integer": True}
    assert found["q_decimal"]["number"] == {"integer": False}
    assert found["q_multiline_string"]["type"] == "long_text"
    assert found["q_minimal"]["type"] == "dropdown"
    assert found["q_select_multi"]["type"] == "multiple_choice"
    assert found["q_rank"]["type"] == "ranking"
    assert found["q_sel1_other"]["other"] is True
    assert found["q_note"]["type"] == "note"
    assert found["q_constraint"]["number"] == {"integer": True, "min": 18, "max": 120}
    assert found["q_relevant"]["show_if"] == {"question": "q_mandatory", "op": "answered"}
    assert found["q_mandatory"]["required"] is True
    assert found["q_hint"]["help"] == {"de": "Format: +49 123 456789"}
    assert found["q_text"]["title"]["de"].startswith("Wie heißen Sie")
    assert result.definition["title"] == {"de": "Workshop-Feedback-Umfrage"}
    pages = [page["key"] for page in result.definition["pages"]]
    assert pages[1:5] == ["basic_types", "appearances", "matrix_wrapper", "or_other_types"]
    rows = reported(result)
    assert {2, 3, 7, 8, 9, 18, 19} <= {row for row, _column in rows}
    assert rows[(32, "type")] == "Nested groups are merged into their page."
    assert "time" in rows[(18, "type")]
    assert result.counts["imported_questions"] == 27  # time and datetime left out


def test_spec_form_reports_unsupported_rows_and_drops_other_languages(app):
    result = load("example_xls_xlsform_spec_test.xlsx")
    rows = reported(result)
    for row in (30, 34, 35, 36, 37, 38):  # acknowledge, geopoint, barcode, image, audio, video
        assert "not supported" in rows[(row, "type")]
    assert "Repeats" in rows[(15, "type")]
    assert (7, "relevant") in rows  # regex(${address}, …) has no equivalent
    assert (18, "constraint") in rows
    dropped = [e for e in result.report if "chinese" in e["reason"]]
    assert len(dropped) == 1
    found = questions(result.definition)
    assert found["address"]["title"] == {"en": "Enter an address"}
    # A group's "not(selected(…))" becomes its page's condition.
    everything = next(p for p in result.definition["pages"] if p["key"] == "everything")
    assert everything["show_if"] == {"question": "skip_to_end", "op": "not_equals", "value": "yes"}
    assert {"label_test", "list_nolabel_test", "compact_test", "q_1", "false"} <= set(found)
    assert found["list_nolabel_test"]["required"] is True


def test_legacy_xls_with_repeat_and_bind_columns(app):
    result = load("example_xls_tutorial.xls")
    found = questions(result.definition)
    assert len(found) == 10
    assert found["relationship_to_household_head"]["type"] == "single_choice"
    assert found["age_in_months"]["show_if"] == {
        "question": "older_than_five",
        "op": "equals",
        "value": "no",
    }
    assert found["age_in_months"]["number"]["max"] == 72
    assert found["age_in_years"]["number"]["min"] == 5
    assert found["literate"]["show_if"] == {
        "all": [
            {"question": "sex", "op": "equals", "value": "female"},
            {"question": "age_in_years", "op": "gt", "value": 14},
            {"question": "age_in_years", "op": "lt", "value": 50},
        ]
    }
    assert [e["row"] for e in result.report] == [2]  # the repeat


def test_choice_filter_splits_by_the_earlier_answer(app):
    result = load("example_xls_choice_filter_test.xlsx")
    found = questions(result.definition)
    assert [c["value"] for c in found["county_texas"]["choices"]] == ["king", "cameron"]
    assert found["county_texas"]["show_if"] == {
        "question": "state",
        "op": "equals",
        "value": "texas",
    }
    king = found["city_king"]
    assert [c["value"] for c in king["choices"]] == ["dumont", "finney", "seattle", "redmond"]
    assert king["show_if"] == {
        "any": [
            {"question": "county_texas", "op": "equals", "value": "king"},
            {"question": "county_washington", "op": "equals", "value": "king"},
        ]
    }
    assert {row for row, _column in reported(result)} == {3, 4}


def test_form_in_german_keeps_names_and_conditions(app):
    result = load("testA.xlsx", ["de", "en"])
    found = questions(result.definition)
    assert found["geschlecht_andere"]["show_if"] == {
        "question": "geschlecht",
        "op": "equals",
        "value": "andere",
    }
    assert found["wohlfuehlen"]["choices"][0] == {
        "value": "1",
        "label": {"de": "Stimme gar nicht zu"},
    }
    # 0 to 100 in steps of 5 is too many points for a scale.
    assert found["attribution_beruf"]["number"] == {"integer": True, "min": 0, "max": 100}
    rows = reported(result)
    assert (22, "relevant") in rows  # ${beruf_post} != ${beruf_pre}
    assert sum(q["required"] for q in found.values() if "required" in q) == 12


def test_content_decides_not_the_name(app):
    data = (FORMS / "example_xls_text_and_integer.xlsx").read_bytes()
    assert import_xlsform(data, LOCALES, "form.txt").counts["imported_questions"] == 2
    with pytest.raises(Invalid) as refused:
        import_xlsform(b"type,name,label\ntext,a,A\n", LOCALES, "form.xlsx")
    assert "not an Excel workbook" in refused.value.errors["file"][0]


def test_oversized_and_zip_bomb_files_are_refused(app):
    with pytest.raises(Invalid) as refused:
        import_xlsform(b"PK\x03\x04" + b"0" * MAX_UPLOAD_BYTES, LOCALES)
    assert "too large" in refused.value.errors["file"][0]
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    assert len(bomb.getvalue()) < MAX_UPLOAD_BYTES
    with pytest.raises(Invalid) as refused:
        import_xlsform(bomb.getvalue(), LOCALES)
    assert "too much data" in refused.value.errors["file"][0]


def test_import_creates_a_draft_survey(db_session, campaign, moderator):
    survey, result = import_survey(
        db_session,
        moderator,
        campaign,
        (FORMS / "example_xls_yes_or_no_question.xlsx").read_bytes(),
        "example_xls_yes_or_no_question.xlsx",
    )
    draft = service.draft_version(db_session, moderator, survey)
    assert survey.status == "draft"
    assert draft.definition == result.definition
    assert questions(draft.definition)["good_day"]["choices"][1]["value"] == "no"
