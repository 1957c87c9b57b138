"""What a workshop led to, in the console: minutes (sanitised), a summary in every language
with a follow-up survey, links to the campaign's ideas and surveys, and publishing the
summary to the people who came."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.models import User
from campaigns.models import Campaign
from notifications.models import Notification
from tests.console import workshop_helpers
from tests.console.helpers import html, post_form
from tests.console.idea_helpers import open_board, post
from tests.console.workshop_helpers import get, in_app, make_workshop
from tests.surveys.helpers import make_survey
from workshops import checkin, registrations
from workshops.models import Outcome, Workshop

# The published campaign "atelier" of Lyon the workshop is on.
campaign = workshop_helpers.campaign
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def world(app, db_session, people, campaign, make_person, lyon):
    """A workshop that started a minute ago with Amélie checked in and Bruno absent; a board
    of its campaign with an idea, the campaign's published survey, and a draft survey."""
    amelie = make_person(lyon, "amelie@lyon.example", locale="fr").id
    bruno = make_person(lyon, "bruno@lyon.example", locale="en").id
    db_session.commit()
    operator_id, campaign_id, resident_id = (
        people["platform_admin"].id,
        campaign.id,
        people["resident"].id,
    )
    with in_app(app) as session:
        operator = get(session, User, operator_id)
        campaign_ = get(session, Campaign, campaign_id)
        board = open_board(session, operator, campaign_)
        idea = post(session, get(session, User, resident_id), board, "Un potager partagé")
        survey = make_survey(session, operator, campaign_)
        draft = make_survey(session, operator, campaign_, publish=False)
        workshop = make_workshop(session, operator, campaign_, starts_in=timedelta(minutes=30))
        for person in (amelie, bruno):
            registrations.register(session, get(session, User, person), workshop)
        ids = {
            "workshop": workshop.id,
            "idea": idea.id,
            "survey": survey.id,
            "draft_survey": draft.id,
            "amelie": amelie,
            "bruno": bruno,
        }
        first = registrations.my_registration(session, get(session, User, amelie), workshop)
        checkin.check_in(session, operator, workshop, registration_id=first.id)
        # It started a minute ago (moved in the database: the service refuses the past).
        workshop.starts_at = utcnow() - timedelta(minutes=1)
    return ids


def _url(world, suffix="") -> str:
    return f"/console/lyon/workshops/{world['workshop']}{suffix}"


def _workshop(db_session, world) -> Workshop:
    return get(db_session, Workshop, world["workshop"])


def test_the_minutes_are_kept_as_sanitised_html(as_person, db_session, world):
    client = as_person("moderator")
    minutes = f"<h2>Décisions</h2><p>Un <strong>potager</strong> {SCRIPT}</p>"
    response = post_form(client, _url(world, "/minutes"), {"minutes": minutes}, _url(world))
    assert response.status_code == 303
    assert response.location.endswith(_url(world, "/outcomes#minutes"))
    saved = _workshop(db_session, world).minutes
    assert "<strong>potager</strong>" in saved and "script" not in saved
    page = html(client.get(_url(world, "/outcomes")))
    assert "<h2>Décisions</h2>" in page and "<script>alert" not in page


def test_the_summary_is_written_in_every_language_with_a_follow_up_survey(
    as_person, db_session, world
):
    client = as_person("moderator")
    page = html(client.get(_url(world, "/outcomes")))
    assert 'name="summary-fr"' in page and 'name="summary-en"' in page
    assert f'<option value="{world["survey"]}">' in page
    form = {
        "summary-fr": "Nous avons choisi un potager.",
        "summary-en": "We chose a vegetable garden.",
        "follow_up_survey_id": str(world["survey"]),
    }
    response = post_form(client, _url(world, "/summary"), form, _url(world))
    assert response.status_code == 303
    saved = _workshop(db_session, world)
    assert saved.summary == {
        "fr": "Nous avons choisi un potager.",
        "en": "We chose a vegetable garden.",
    }
    assert saved.follow_up_survey_id == world["survey"]


def test_a_refused_summary_is_shown_again_and_nothing_is_saved(as_person, db_session, world):
    client = as_person("moderator")
    form = {"summary-en": "Only English.", "follow_up_survey_id": "999999"}
    response = post_form(client, _url(world, "/summary"), form, _url(world))
    assert response.status_code == 422
    page = html(response)
    assert "Only English." in page
    assert "Choose a survey of this workshop&#39;s campaign." in page
    assert _workshop(db_session, world).summary == {}
    bad = post_form(client, _url(world, "/summary"), {"follow_up_survey_id": "x"}, _url(world))
    assert bad.status_code == 400


def test_ideas_and_surveys_are_linked_with_a_note_and_unlinked(as_person, db_session, world):
    client = as_person("moderator")
    found = html(client.get(_url(world, "/outcomes?idea_q=potager")))
    assert f"#{world['idea']}</strong>" in found and "Un potager partagé" in found
    idea = post_form(
        client,
        _url(world, "/outcomes"),
        {"kind": "idea", "idea_id": str(world["idea"]), "note-idea-fr": "Né de l'atelier."},
        _url(world),
    )
    assert idea.status_code == 303
    survey = post_form(
        client,
        _url(world, "/outcomes"),
        {"kind": "survey", "survey_id": str(world["survey"])},
        _url(world),
    )
    assert survey.status_code == 303
    rows = db_session.scalars(sa.select(Outcome).order_by(Outcome.id)).all()
    assert [(o.idea_id, o.survey_id, o.note) for o in rows] == [
        (world["idea"], None, {"fr": "Né de l'atelier."}),
        (None, world["survey"], {}),
    ]
    page = html(client.get(_url(world, "/outcomes")))
    assert f'href="/console/lyon/ideas/{world["idea"]}"' in page
    assert f'href="/console/lyon/surveys/{world["survey"]}"' in page
    assert "Né de l&#39;atelier." in page
    again = post_form(
        client,
        _url(world, "/outcomes"),
        {"kind": "idea", "idea_id": str(world["idea"])},
        _url(world),
    )
    assert again.status_code == 422
    assert "This is an outcome of the workshop already." in html(again)
    removed = post_form(client, _url(world, f"/outcomes/{rows[0].id}/remove"), page=_url(world))
    assert removed.status_code == 303
    assert [o.survey_id for o in db_session.scalars(sa.select(Outcome))] == [world["survey"]]


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"kind": "idea", "idea_id": ""}, 422, "Choose the idea or the survey"),
        ({"kind": "idea", "idea_id": "999999"}, 422, "Choose a published idea on a board"),
        ({"kind": "survey", "survey_id": "{draft_survey}"}, 422, "Choose a published survey"),
        ({"kind": "idea", "idea_id": "12a"}, 400, ""),
        ({"kind": "petition", "petition_id": "1"}, 400, ""),
    ],
)
def test_a_wrong_link_is_refused_and_nothing_is_linked(
    as_person, db_session, world, form, status, message
):
    form = {key: value.format(**world) for key, value in form.items()}
    response = post_form(as_person("moderator"), _url(world, "/outcomes"), form, _url(world))
    assert response.status_code == status
    assert message in html(response)
    assert db_session.scalar(sa.select(sa.func.count(Outcome.id))) == 0


def test_the_summary_is_published_once_the_workshop_is_completed_and_tells_who_came(
    as_person, db_session, world
):
    client = as_person("moderator")
    post_form(
        client,
        _url(world, "/summary"),
        {"summary-fr": "Un potager.", "summary-en": "A garden."},
        _url(world),
    )
    early = post_form(client, _url(world, "/summary/publish"), page=_url(world))
    assert "once the workshop is over" in html(client.get(early.location))
    completed = post_form(client, _url(world, "/complete"), page=_url(world))
    assert completed.location.endswith(_url(world, "/outcomes"))
    page = html(client.get(completed.location))
    assert "Publish summary" in page
    response = post_form(client, _url(world, "/summary/publish"), page=_url(world))
    assert response.status_code == 303
    assert _workshop(db_session, world).summary_published_at is not None
    told = db_session.scalars(
        sa.select(Notification).where(Notification.kind == "workshop.summary")
    ).all()
    assert [n.user_id for n in told] == [world["amelie"]]  # Bruno did not come
    assert "Un potager." in told[0].body_text  # in Amélie's language
    after = html(client.get(response.location))
    assert "The summary is published." in after and "Publish summary</button>" not in after


def test_only_the_citys_moderators_record_outcomes(as_person, db_session, world):
    for who, status in (("staff", 403), ("other_moderator", 404)):
        client = as_person(who)
        assert client.get(_url(world, "/outcomes")).status_code == status
        posted = post_form(client, _url(world, "/minutes"), {"minutes": "<p>x</p>"})
        assert posted.status_code == status
    forged = as_person("moderator").post(
        _url(world, "/minutes"), data={"minutes": "<p>x</p>", "csrf_token": "forged"}
    )
    assert forged.status_code == 400
    assert _workshop(db_session, world).minutes == ""
