"""What a workshop led to: minutes, links to ideas and surveys of its campaign, and a summary
published once to those who attended."""

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.models import Role
from ideas.models import BoardStatus, IdeaState
from tests.ideas import conftest as ideas_fixtures
from tests.surveys.helpers import make_survey, published_campaign
from workshops import checkin, outcomes, registrations, service
from workshops.models import Outcome, WorkshopStatus

pytestmark = pytest.mark.usefixtures("in_app")
# The ideas tests' fixtures: boards of the campaign and ideas on them.
board_of, idea_on = ideas_fixtures.board_of, ideas_fixtures.idea_on


@pytest.fixture
def over(db_session, workshop_of, moderator):
    """A completed workshop."""
    workshop = workshop_of()
    service.complete_workshop(db_session, moderator, workshop, now=workshop.ends_at)
    return workshop


def test_minutes_are_sanitised(db_session, over, moderator):
    outcomes.record_minutes(
        db_session,
        moderator,
        over,
        '<p onclick="x()">Nous avons <strong>choisi</strong></p><script>alert(1)</script>'
        '<a href="javascript:alert(1)">lien</a>',
    )
    assert over.minutes == (
        '<p>Nous avons <strong>choisi</strong></p><a rel="noopener noreferrer">lien</a>'
    )
    outcomes.record_minutes(db_session, moderator, over, "Ligne 1\nLigne <2>")
    assert over.minutes == "<p>Ligne 1<br>Ligne &lt;2&gt;</p>"
    with pytest.raises(Invalid) as refused:
        outcomes.record_minutes(db_session, moderator, over, "x" * 50_001)
    assert list(refused.value.errors) == ["minutes"]
    assert over.minutes == "<p>Ligne 1<br>Ligne &lt;2&gt;</p>"


def test_outcomes_link_published_ideas_and_surveys_of_the_campaign(
    db_session, over, moderator, campaign, board_of, idea_on, resident, lyon
):
    idea = idea_on(board_of(), resident)
    survey = make_survey(db_session, moderator, campaign)
    linked = outcomes.add_outcome(
        db_session, moderator, over, idea_id=idea.id, note={"fr": " Née à l'atelier "}
    )
    assert (linked.idea_id, linked.survey_id, linked.note) == (
        idea.id,
        None,
        {"fr": "Née à l'atelier"},
    )
    outcomes.add_outcome(db_session, moderator, over, survey_id=survey.id)
    with pytest.raises(Invalid) as refused:
        outcomes.add_outcome(db_session, moderator, over, idea_id=idea.id)
    assert refused.value.errors == {"idea_id": ["This is an outcome of the workshop already."]}
    other_campaign = published_campaign(db_session, moderator, lyon, slug="autre")
    elsewhere = idea_on(board_of(campaign_id=other_campaign.id), resident)
    hidden = idea_on(board_of(), resident, state=IdeaState.HIDDEN)
    on_draft = idea_on(board_of(status=BoardStatus.DRAFT), resident)
    draft_survey = make_survey(db_session, moderator, campaign, publish=False)
    other_survey = make_survey(db_session, moderator, other_campaign)
    for values, field in [
        ({"idea_id": elsewhere.id}, "idea_id"),
        ({"idea_id": hidden.id}, "idea_id"),
        ({"idea_id": on_draft.id}, "idea_id"),
        ({"idea_id": 2**40}, "idea_id"),
        ({"survey_id": draft_survey.id}, "survey_id"),
        ({"survey_id": other_survey.id}, "survey_id"),
        ({}, "idea_id"),
        ({"idea_id": idea.id, "survey_id": survey.id}, "idea_id"),
        ({"survey_id": survey.id, "note": {"fr": "x" * 1001}}, "note"),
    ]:
        with pytest.raises(Invalid) as refused:
            outcomes.add_outcome(db_session, moderator, over, **values)
        assert field in refused.value.errors
    rows = db_session.execute(sa.select(Outcome.idea_id, Outcome.survey_id)).all()
    assert sorted(rows, key=str) == sorted([(idea.id, None), (None, survey.id)], key=str)


def test_removing_an_outcome(db_session, over, workshop_of, moderator, board_of, idea_on, resident):
    outcome = outcomes.add_outcome(
        db_session, moderator, over, idea_id=idea_on(board_of(), resident).id
    )
    other = workshop_of()
    with pytest.raises(NotFound):
        outcomes.remove_outcome(db_session, moderator, other, outcome.id)
    outcomes.remove_outcome(db_session, moderator, over, outcome.id)
    assert db_session.scalar(sa.select(sa.func.count(Outcome.id))) == 0
    with pytest.raises(NotFound):
        outcomes.remove_outcome(db_session, moderator, over, outcome.id)


def test_the_summary_and_its_follow_up_survey(db_session, over, moderator, campaign, lyon):
    survey = make_survey(db_session, moderator, campaign)
    outcomes.set_summary(db_session, moderator, over, {"fr": " Merci ! ", "en": ""}, survey.id)
    assert (over.summary, over.follow_up_survey_id) == ({"fr": "Merci !"}, survey.id)
    other = make_survey(
        db_session, moderator, published_campaign(db_session, moderator, lyon, slug="autre")
    )
    for summary, survey_id, field in [
        ({"fr": "x" * 5001}, None, "summary"),
        ({"it": "Grazie"}, None, "summary"),
        ({"fr": "Merci"}, other.id, "follow_up_survey_id"),
        ({"fr": "Merci"}, 2**40, "follow_up_survey_id"),
    ]:
        with pytest.raises(Invalid) as refused:
            outcomes.set_summary(db_session, moderator, over, summary, survey_id)
        assert list(refused.value.errors) == [field]
    assert (over.summary, over.follow_up_survey_id) == ({"fr": "Merci !"}, survey.id)


def test_the_summary_is_published_once_to_those_who_came(
    db_session, workshop_of, moderator, residents, told
):
    workshop = workshop_of()
    came, stayed_home = residents(2)
    for person in (came, stayed_home):
        registrations.register(db_session, person, workshop)
    registration = registrations.my_registration(db_session, came, workshop)
    checkin.check_in(
        db_session, moderator, workshop, registration_id=registration.id, now=workshop.starts_at
    )
    with pytest.raises(Conflict) as refused:
        outcomes.publish_summary(db_session, moderator, workshop)
    assert refused.value.slug == "not-completed"
    service.complete_workshop(db_session, moderator, workshop, now=workshop.ends_at)
    with pytest.raises(Invalid) as refused:
        outcomes.publish_summary(db_session, moderator, workshop)
    assert list(refused.value.errors) == ["summary"]
    outcomes.set_summary(db_session, moderator, workshop, {"en": "Thanks"}, None)
    with pytest.raises(Invalid):
        outcomes.publish_summary(db_session, moderator, workshop)
    outcomes.set_summary(db_session, moderator, workshop, {"fr": "Merci à tous"}, None)
    now = utcnow()
    outcomes.publish_summary(db_session, moderator, workshop, now=now)
    assert workshop.summary_published_at == now
    assert told(came, "workshop.summary") == [("workshop.summary", "summary")]
    assert told(stayed_home, "workshop.summary") == []
    with pytest.raises(Conflict) as refused:
        outcomes.publish_summary(db_session, moderator, workshop)
    assert refused.value.slug == "summary-published"
    assert len(told(came, "workshop.summary")) == 1


def test_a_follow_up_survey_must_be_open_when_the_summary_goes_out(
    db_session, over, moderator, campaign
):
    draft = make_survey(db_session, moderator, campaign, publish=False)
    outcomes.set_summary(db_session, moderator, over, {"fr": "Merci"}, draft.id)
    with pytest.raises(Invalid) as refused:
        outcomes.publish_summary(db_session, moderator, over)
    assert list(refused.value.errors) == ["follow_up_survey_id"]
    assert over.summary_published_at is None


def test_only_the_citys_editors_record_outcomes(
    db_session, over, resident, vienna, make_user, workshop_of, moderator
):
    for person, refusal in (
        (resident, NotAllowed),
        (make_user(vienna, role=Role.MODERATOR), NotFound),
    ):
        with pytest.raises(refusal):
            outcomes.record_minutes(db_session, person, over, "Rien")
        with pytest.raises(refusal):
            outcomes.set_summary(db_session, person, over, {"fr": "Rien"}, None)
        with pytest.raises(refusal):
            outcomes.publish_summary(db_session, person, over)
    assert over.minutes == "" and over.summary == {}
    draft = workshop_of(status=WorkshopStatus.DRAFT)
    with pytest.raises(Conflict):
        outcomes.record_minutes(db_session, moderator, draft, "Trop tôt")
