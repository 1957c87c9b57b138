"""The survey builder of the console: a bilingual survey built, published, edited, closed."""

import pytest
import sqlalchemy as sa

from surveys import service
from surveys.models import Survey, SurveyVersion
from tests.console.helpers import html, post_form
from tests.console.test_pages import PageAudit

LIST = "/console/lyon/surveys"


def survey_with_question(db_session, actor, campaign) -> Survey:
    """A draft survey of ``campaign`` with one choice question "heating" (for route tests)."""
    survey = service.create_survey(db_session, actor, campaign, title={"fr": "Chauffage"})
    draft = service.draft_version(db_session, actor, survey)
    definition = dict(draft.definition)
    definition["pages"] = [
        {
            "key": "page_1",
            "questions": [
                {
                    "key": "heating",
                    "type": "single_choice",
                    "title": {"fr": "Comment chauffez-vous ?"},
                    "choices": [{"value": "gas", "label": {"fr": "Gaz"}}],
                }
            ],
        },
        {"key": "page_2", "questions": []},
    ]
    service.save_definition(db_session, actor, survey, definition)
    db_session.commit()
    return survey


def _surveys(db_session) -> list[Survey]:
    db_session.expire_all()
    return list(db_session.scalars(sa.select(Survey).order_by(Survey.id)))


def _versions(db_session, survey) -> list[SurveyVersion]:
    db_session.expire_all()
    query = sa.select(SurveyVersion).where(SurveyVersion.survey_id == survey.id)
    return list(db_session.scalars(query.order_by(SurveyVersion.number)))


def _draft(db_session, survey) -> dict:
    return _versions(db_session, survey)[-1].definition


def _show_if_errors(page: str) -> str:
    return page.split('id="show_if-errors"', 1)[1].split("</ul>", 1)[0]


HEATING = {
    "type": "single_choice",
    "key": "heating",
    "title-fr": "Comment chauffez-vous ?",
    "title-en": "How do you heat?",
    "help-fr": "Le chauffage principal.",
    "required": "y",
    "choice-0-value": "gas",
    "choice-0-label-fr": "Gaz",
    "choice-0-label-en": "Gas",
    "choice-1-value": "heat_pump",
    "choice-1-label-fr": "Pompe à chaleur",
    "other": "y",
}
BOILER = {
    "type": "number",
    "key": "boiler_age",
    "title-fr": "Âge de la chaudière ?",
    "title-en": "Age of the boiler?",
    "required": "y",
    "number_integer": "y",
    "number_min": "0",
    "number_max": "80",
    "cond-0-question": "heating",
    "cond-0-op": "equals",
    "cond-0-value": "gas",
}


def _new_survey(client, campaign_slug="block-7", **changes):
    data = {
        "campaign": campaign_slug,
        "title-fr": "Votre chauffage",
        "title-en": "Your heating",
        "introduction-fr": "Quelques questions.",
        "opens_at": "2030-07-01T10:00",
        "grace_minutes": "30",
        **changes,
    }
    return post_form(client, f"{LIST}/new", data)


def test_a_moderator_builds_publishes_edits_and_closes_a_bilingual_survey(
    as_person, make_campaign, db_session
):
    make_campaign(status="published")
    client = as_person("moderator")
    form = html(client.get(f"{LIST}/new"))
    for name in ("title-fr", "title-en", "introduction-en", "closing-fr", "opens_at"):
        assert f'for="{name}"' in form, name

    response = _new_survey(client)
    assert response.status_code == 303, html(response)
    (survey,) = _surveys(db_session)
    assert survey.status == "draft" and survey.grace_minutes == 30
    assert survey.opens_at.replace(tzinfo=None).isoformat() == "2030-07-01T08:00:00"
    assert _draft(db_session, survey)["introduction"] == {"fr": "Quelques questions."}
    show = f"{LIST}/{survey.id}"
    assert response.location == show
    page = html(client.get(show))
    assert "(UTC+02:00)" in page
    assert "Introduction" in page  # its English text is missing: the panel says so

    # A choice question written side by side, with "other"; a label is missing in English.
    form = html(client.get(f"{show}/pages/1/questions/new?type=single_choice"))
    assert 'for="title-fr"' in form and 'for="title-en"' in form
    assert 'for="choice-0-label-en"' in form and 'for="cond-0-question"' in form
    response = post_form(client, f"{show}/pages/1/questions/new", HEATING)
    assert response.status_code == 303, html(response)
    (heating,) = _draft(db_session, survey)["pages"][0]["questions"]
    assert heating == {
        "key": "heating",
        "type": "single_choice",
        "title": {"fr": "Comment chauffez-vous ?", "en": "How do you heat?"},
        "help": {"fr": "Le chauffage principal."},
        "required": True,
        "choices": [
            {"value": "gas", "label": {"fr": "Gaz", "en": "Gas"}},
            {"value": "heat_pump", "label": {"fr": "Pompe à chaleur"}},
        ],
        "other": True,
    }
    page = html(client.get(show))
    assert "“heating”: “heat_pump”" in page

    # A number shown only to those heating with gas.
    form = html(client.get(f"{show}/pages/1/questions/new?type=number"))
    assert '<option value="heating">' in form
    response = post_form(client, f"{show}/pages/1/questions/new", BOILER)
    assert response.status_code == 303, html(response)
    boiler = _draft(db_session, survey)["pages"][0]["questions"][1]
    assert boiler["show_if"] == {"question": "heating", "op": "equals", "value": "gas"}
    assert boiler["number"] == {"integer": True, "min": 0, "max": 80}
    page = html(client.get(show))
    assert "Shown only if" in page and "<code>gas</code>" in page

    # The preview in English falls back to French where English is missing.
    preview = html(client.get(f"{show}?lang=en"))
    assert "How do you heat?" in preview and "Pompe à chaleur" in preview
    assert "Other, please specify" in preview

    response = post_form(client, f"{show}/publish", {}, page=show)
    assert response.status_code == 303
    db_session.expire_all()
    assert survey.status == "published" and survey.current_version.number == 1

    # Editing after publishing makes version 2; residents keep version 1 until it is published.
    edited = {**BOILER, "title-en": "How old is the boiler?"}
    response = post_form(client, f"{show}/questions/boiler_age", edited, page=show)
    assert response.status_code == 303, html(response)
    first, second = _versions(db_session, survey)
    assert (first.status, second.status, second.number) == ("published", "draft", 2)
    assert first.definition["pages"][0]["questions"][1]["title"]["en"] == "Age of the boiler?"
    assert second.definition["pages"][0]["questions"][1]["title"]["en"] == (
        "How old is the boiler?"
    )
    assert "You are editing version 2" in html(client.get(show))
    post_form(client, f"{show}/publish", {}, page=show)
    first, second = _versions(db_session, survey)
    assert (first.status, second.status) == ("superseded", "published")

    response = post_form(client, f"{show}/close", {}, page=show)
    assert response.status_code == 303
    db_session.expire_all()
    assert survey.status == "closed"
    page = html(client.get(show))
    assert "A closed survey cannot be changed." in page
    assert f"{show}/questions/heating/move" not in page


def test_a_condition_on_a_later_question_is_refused_next_to_the_condition(
    as_person, make_campaign, people, db_session
):
    campaign = make_campaign(status="published")
    survey = survey_with_question(db_session, people["moderator"], campaign)
    show = f"{LIST}/{survey.id}"
    client = as_person("moderator")
    post_form(client, f"{show}/pages/1/questions/new", BOILER, page=show)
    before = _draft(db_session, survey)

    data = {
        "type": "single_choice",
        "key": "heating",
        "title-fr": "Comment chauffez-vous ?",
        "choice-0-value": "gas",
        "choice-0-label-fr": "Gaz",
        "cond-0-question": "boiler_age",
        "cond-0-op": "answered",
    }
    response = post_form(client, f"{show}/questions/heating", data, page=show)
    assert response.status_code == 422
    page = html(response)
    assert "Nothing is saved yet" in page
    assert "“boiler_age” does not come before this question." in _show_if_errors(page)
    assert '<option value="boiler_age" selected>' in page  # what was typed stays
    assert _draft(db_session, survey) == before

    # Moving the number above the question it depends on is refused the same way.
    response = post_form(client, f"{show}/questions/boiler_age/move", {"direction": "up"}, show)
    assert response.status_code == 303
    assert "does not come before this question" in html(client.get(show))
    assert _draft(db_session, survey) == before

    # Deleting asks first, then removes the question.
    confirm = html(client.get(f"{show}/questions/boiler_age/delete"))
    assert "Delete the question" in confirm
    post_form(client, f"{show}/questions/boiler_age/delete", {}, show)
    keys = [q["key"] for q in _draft(db_session, survey)["pages"][0]["questions"]]
    assert keys == ["heating"]


def test_errors_of_choices_are_shown_beside_their_row(as_person, make_campaign, db_session):
    make_campaign(status="published")
    client = as_person("admin")
    _new_survey(client)
    (survey,) = _surveys(db_session)
    show = f"{LIST}/{survey.id}"
    data = {**HEATING, "choice-1-value": "Heat Pump!", "choice-0-label-fr": ""}
    response = post_form(client, f"{show}/pages/1/questions/new", data, page=show)
    assert response.status_code == 422
    page = html(response)
    row = page.split('id="choice-1"', 1)[1].split("</fieldset>", 1)[0]
    assert "lower-case letters" in row
    label = page.split('id="choice-0"', 1)[1].split("</fieldset>\n    </fieldset>", 1)[0]
    assert "A text in French is required." in label
    assert 'value="Heat Pump!"' in page


def test_markup_in_texts_is_shown_as_text(as_person, make_campaign, db_session):
    make_campaign(status="published")
    client = as_person("moderator")
    _new_survey(client, **{"title-en": "<b>Bold</b>"})
    (survey,) = _surveys(db_session)
    show = f"{LIST}/{survey.id}"
    evil = "<script>alert(1)</script>"
    data = {**HEATING, "title-en": evil, "choice-0-label-en": '<img src=x onerror="alert(2)">'}
    assert post_form(client, f"{show}/pages/1/questions/new", data, page=show).status_code == 303
    for url in (show, f"{show}?lang=en", f"{show}/questions/heating", LIST):
        page = html(client.get(url))
        assert "<script>alert" not in page and "<img src=x" not in page, url
        assert "<b>Bold</b>" not in page, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html(client.get(f"{show}?lang=en"))


def test_pages_can_be_added_renamed_and_deleted(as_person, make_campaign, db_session):
    make_campaign(status="published")
    client = as_person("moderator")
    _new_survey(client)
    (survey,) = _surveys(db_session)
    show = f"{LIST}/{survey.id}"
    post_form(client, f"{show}/pages", {}, page=show)
    assert [p["key"] for p in _draft(db_session, survey)["pages"]] == ["page_1", "page_2"]
    response = post_form(
        client, f"{show}/pages/2", {"key": "habits", "title-fr": "Habitudes"}, page=show
    )
    assert response.status_code == 303
    assert _draft(db_session, survey)["pages"][1] == {
        "key": "habits",
        "title": {"fr": "Habitudes"},
        "questions": [],
    }
    response = post_form(client, f"{show}/pages/2", {"key": "Bad Key"}, page=show)
    assert response.status_code == 422 and "lower-case letters" in html(response)
    post_form(client, f"{show}/pages/2/delete", {}, page=show)
    assert len(_draft(db_session, survey)["pages"]) == 1


def _labelled_and_without_inline_code(page: str) -> None:
    audit = PageAudit()
    audit.feed(page)
    assert [c for c in audit.controls if c.get("id") not in audit.labels] == []
    assert audit.inline_scripts == 0 and audit.styled == [] and audit.h1 == 1


@pytest.fixture
def two_pages(make_campaign, people, db_session) -> Survey:
    """``survey_with_question`` with a number question "boiler_age" on page 2."""
    campaign = make_campaign(status="published")
    survey = survey_with_question(db_session, people["moderator"], campaign)
    definition = _draft(db_session, survey)
    definition["pages"][1]["questions"].append(
        {"key": "boiler_age", "type": "number", "title": {"fr": "Âge de la chaudière ?"}}
    )
    service.save_definition(db_session, people["moderator"], survey, definition)
    db_session.commit()
    return survey


def test_a_page_is_shown_only_if_an_answer_on_an_earlier_page_holds(
    as_person, two_pages, db_session
):
    survey = two_pages
    show = f"{LIST}/{survey.id}"
    client = as_person("moderator")

    # Page 2 may test the questions of page 1, not its own.
    form = html(client.get(f"{show}/pages/2"))
    _labelled_and_without_inline_code(form)
    assert '<option value="heating">heating: Comment chauffez-vous ?</option>' in form
    assert 'value="boiler_age"' not in form
    # Nothing comes before page 1, so it has no condition to set.
    first = html(client.get(f"{show}/pages/1"))
    _labelled_and_without_inline_code(first)
    assert 'name="cond-0-question"' not in first and "This page is always shown" in first

    data = {
        "key": "page_2",
        "title-fr": "Votre chaudière",
        "cond-0-question": "heating",
        "cond-0-op": "equals",
        "cond-0-value": "gas",
    }
    response = post_form(client, f"{show}/pages/2", data, page=show)
    assert response.status_code == 303, html(response)
    assert response.location.endswith("#page-2")
    saved = _draft(db_session, survey)["pages"][1]
    assert saved["show_if"] == {"question": "heating", "op": "equals", "value": "gas"}
    assert saved["title"] == {"fr": "Votre chaudière"}
    overview = html(client.get(show))
    page_two = overview.split('id="page-2"', 1)[1].split('<ol class="questions">', 1)[0]
    assert "Shown only if <code>heating</code> is <code>gas</code>" in page_two
    form = html(client.get(f"{show}/pages/2"))
    assert '<option value="heating" selected>' in form and 'value="gas"' in form

    # Two conditions, one of them enough.
    data = {
        **data,
        "combine": "any",
        "cond-1-question": "heating",
        "cond-1-op": "not_answered",
    }
    assert post_form(client, f"{show}/pages/2", data, page=show).status_code == 303
    assert _draft(db_session, survey)["pages"][1]["show_if"] == {
        "any": [
            {"question": "heating", "op": "equals", "value": "gas"},
            {"question": "heating", "op": "not_answered"},
        ]
    }
    assert "<code>gas</code> or <code>heating</code> is not answered" in html(client.get(show))

    # The page's condition follows the question when its key changes.
    renamed = {
        "type": "single_choice",
        "key": "heat_source",
        "title-fr": "Comment chauffez-vous ?",
        "choice-0-value": "gas",
        "choice-0-label-fr": "Gaz",
    }
    response = post_form(client, f"{show}/questions/heating", renamed, page=show)
    assert response.status_code == 303, html(response)
    conditions = _draft(db_session, survey)["pages"][1]["show_if"]["any"]
    assert [c["question"] for c in conditions] == ["heat_source", "heat_source"]

    # Emptying the rows makes the page unconditional again.
    response = post_form(client, f"{show}/pages/2", {"key": "page_2"}, page=show)
    assert response.status_code == 303
    assert "show_if" not in _draft(db_session, survey)["pages"][1]
    assert "Shown only if" not in html(client.get(show))


def test_a_page_condition_on_its_own_or_a_later_page_is_refused_beside_it(
    as_person, two_pages, db_session
):
    survey = two_pages
    show = f"{LIST}/{survey.id}"
    client = as_person("moderator")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    before = _draft(db_session, survey)

    refusals = (
        ("2", "boiler_age"),  # a question of the same page
        ("1", "heating"),  # the same page, the first one
        ("1", "boiler_age"),  # a later page
    )
    for number, key in refusals:
        data = {"key": f"page_{number}", "cond-0-question": key, "cond-0-op": "answered"}
        response = post_form(client, f"{show}/pages/{number}", data, page=show)
        assert response.status_code == 422, (number, key)
        page = html(response)
        assert '<html lang="fr"' in page and 'class="error-summary"' in page
        french = f"«\N{NO-BREAK SPACE}{key}\N{NO-BREAK SPACE}» ne figure pas avant cette question."
        assert french in _show_if_errors(page)
        assert 'href="#show_if-section"' in page
        assert f'<option value="{key}" selected>{key}</option>' in page  # what was typed stays
        _labelled_and_without_inline_code(page)
        assert _draft(db_session, survey) == before

    # A question that does not exist is refused as well, nothing saved.
    data = {"key": "page_2", "cond-0-question": "ghost", "cond-0-op": "answered"}
    response = post_form(client, f"{show}/pages/2", data, page=show)
    assert response.status_code == 422
    assert "aucune question «\N{NO-BREAK SPACE}ghost" in _show_if_errors(html(response))
    assert _draft(db_session, survey) == before


def test_the_city_nav_and_the_campaign_link_to_surveys(as_person, make_campaign):
    make_campaign()
    page = html(as_person("moderator").get("/console/lyon/campaigns/block-7"))
    assert 'href="/console/lyon/surveys"' in page
    assert 'href="/console/lyon/surveys?campaign=block-7"' in page
    staff = html(as_person("staff").get("/console/lyon/campaigns/block-7"))
    assert 'href="/console/lyon/surveys"' not in staff
