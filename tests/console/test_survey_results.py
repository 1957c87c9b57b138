"""The results page of a survey and its CSV download, as moderators use them."""

import csv
import io
import re
from html import unescape

import pytest

from app.models import Role
from tests.console.helpers import html
from tests.surveys.helpers import published_campaign
from tests.surveys.test_results import answered_survey


@pytest.fixture
def moderator(lyon, make_person):
    return make_person(lyon, "moderator@lyon.example", Role.MODERATOR, locale="fr")


@pytest.fixture
def survey(db_session, lyon, moderator, make_person):
    resident = make_person(lyon, "resident@lyon.example")
    campaign = published_campaign(db_session, moderator, lyon)
    survey = answered_survey(db_session, moderator, campaign, resident)
    db_session.commit()
    return survey


def _page(survey):
    return f"/console/lyon/surveys/{survey.id}/results"


def test_a_french_moderator_sees_figures_in_french(
    app, new_client, open_session, moderator, survey, monkeypatch
):
    monkeypatch.setitem(app.config, "RESULTS_MIN_GROUP", 1)
    client = open_session(new_client(), moderator)
    page = html(client.get(_page(survey)))
    assert 'role="img"' in page and "<title" in page
    assert "Azur" in page and "Pince" in page  # labels from the current and older versions
    assert "3,6" in page  # the mean comfort, French decimal comma
    assert re.search(r"2 \(40\s%\)", page)  # 2 of 5 chose red, French spacing
    assert "1,75" in page  # the mean of the first matrix row
    assert "100% sûr" in page and "under_score" in page


def test_small_groups_show_as_fewer_than_the_minimum(
    app, new_client, open_session, moderator, survey, translate, monkeypatch
):
    monkeypatch.setitem(app.config, "RESULTS_MIN_GROUP", 5)
    client = open_session(new_client(), moderator)
    page = html(client.get(_page(survey)))
    assert "&lt; 5" in page
    assert "Azur" in page and "Rouge: 2" not in page
    crossed = html(client.get(_page(survey) + "?question=color&choice=red"))
    message = translate(
        "fr",
        "Fewer than %(minimum)d respondents match these filters, so nothing is shown about them.",
        minimum=5,
    )
    assert message in unescape(crossed)
    assert "Marteau" not in crossed and "100% sûr" not in crossed and "<svg" not in crossed


def test_searching_written_answers(app, new_client, open_session, moderator, survey, monkeypatch):
    monkeypatch.setitem(app.config, "RESULTS_MIN_GROUP", 1)
    client = open_session(new_client(), moderator)
    page = html(client.get(_page(survey) + "?text=note&q=_"))
    assert "under_score" in page and "plain</li>" not in page


@pytest.mark.parametrize(
    "query", ["?sort=password", "?version=x", "?version=9", "?question=age&choice=1", "?lang=%3B"]
)
def test_parameters_outside_the_allow_list_are_refused(
    new_client, open_session, moderator, survey, query
):
    client = open_session(new_client(), moderator)
    assert client.get(_page(survey) + query).status_code == 400


def test_the_csv_download(new_client, open_session, moderator, survey):
    client = open_session(new_client(), moderator)
    response = client.get(_page(survey) + ".csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert len(rows) == 5
    assert rows[2]["color.other"].startswith("'=")
    assert rows[1]["color.label"] == "Azur"


def test_others_are_refused(new_client, open_session, make_person, lyon, vienna, survey):
    staff = make_person(lyon, "staff@lyon.example", Role.STAFF)
    researcher = make_person(lyon, "researcher@lyon.example", Role.RESEARCHER)
    stranger = make_person(vienna, "moderator@vienna.example", Role.MODERATOR)
    for person, status in ((staff, 403), (researcher, 403), (stranger, 404)):
        client = open_session(new_client(), person)
        assert client.get(_page(survey)).status_code == status
        assert client.get(_page(survey) + ".csv").status_code == status
    viennese = make_person(vienna, "admin@vienna.example", Role.ADMIN)
    client = open_session(new_client(), viennese)
    # A survey of another city, asked for under the reader's own city: not found.
    assert client.get(f"/console/vienna/surveys/{survey.id}/results").status_code == 404
