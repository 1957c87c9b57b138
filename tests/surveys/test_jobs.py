"""The scheduler's survey job: followers told once when a survey opens, closing, one reminder."""

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from babel.dates import format_datetime

from app.db import utcnow
from app.models import Role
from campaigns import service as campaigns
from notifications.models import Notification
from surveys import responses_submit, service
from surveys.jobs import reminder_moment, survey_schedule
from surveys.models import Survey, SurveyStatus
from tests.conftest import session_of
from tests.crowd import at_once, live_campaign
from tests.surveys.helpers import DEFINITION, GAS, in_french, make_survey, published_campaign

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def app_context(app, db_session):
    """The job renders notifications, which needs the app."""
    with app.app_context():
        yield


@pytest.fixture
def follower(db_session, lyon, make_user, campaign):
    def make(city=None, campaign_slug="block-7", **values):
        person = make_user(city or lyon, **values)
        campaigns.follow_campaign(db_session, person, campaign_slug)
        return person

    return make


def told(session, kind: str) -> list[Notification]:
    return list(
        session.scalars(
            sa.select(Notification).where(Notification.kind == kind).order_by(Notification.user_id)
        )
    )


def test_followers_are_told_once_when_a_survey_opens(
    db_session, survey_of, follower, make_user, lyon
):
    alice, bob = follower(), follower()
    make_user(lyon)  # not a follower
    now = utcnow()
    survey = survey_of(opens_at=now + HOUR, closes_at=now + 10 * DAY)

    assert survey_schedule(db_session, now)["opened"] == 0
    assert told(db_session, "survey.opened") == []

    assert survey_schedule(db_session, now + 2 * HOUR)["opened"] == 1
    assert survey_schedule(db_session, now + 3 * HOUR)["opened"] == 0
    notes = told(db_session, "survey.opened")
    assert [n.user_id for n in notes] == sorted([alice.id, bob.id])
    assert notes[0].data == {"survey_id": survey.id}
    assert notes[0].dedupe_key == f"survey:{survey.id}:opened"
    assert "Votre chauffage" in notes[0].subject
    db_session.refresh(survey)
    assert survey.opening_told_at == now + 2 * HOUR


def test_a_survey_published_without_opening_time_is_announced_at_once(
    db_session, survey_of, follower
):
    person = follower()
    survey_of()
    assert survey_schedule(db_session)["opened"] == 1
    assert [n.user_id for n in told(db_session, "survey.opened")] == [person.id]


def test_drafts_and_surveys_of_archived_campaigns_are_not_announced(
    db_session, survey_of, follower, moderator, campaign
):
    follower()
    survey_of(publish=False)
    assert survey_schedule(db_session)["opened"] == 0
    published = survey_of()
    campaigns.archive_campaign(db_session, moderator, campaign)
    assert survey_schedule(db_session)["opened"] == 0
    assert told(db_session, "survey.opened") == []
    assert published.opening_told_at is None


def test_a_survey_closes_after_its_closing_time_and_grace(db_session, survey_of, follower):
    now = utcnow()
    survey = survey_of(closes_at=now + HOUR, grace_minutes=30)

    survey_schedule(db_session, now + HOUR + timedelta(minutes=29))
    db_session.refresh(survey)
    assert survey.status == SurveyStatus.PUBLISHED  # late phones may still send

    result = survey_schedule(db_session, now + HOUR + timedelta(minutes=30))
    db_session.refresh(survey)
    assert result["closed"] == 1
    assert survey.status == SurveyStatus.CLOSED
    assert survey.closed_at == now + HOUR + timedelta(minutes=30)
    # Closing again changes nothing; the closing moment stays the announced one.
    assert survey_schedule(db_session, now + 2 * HOUR)["closed"] == 0
    assert service.closing_moment(survey) == now + HOUR


def test_a_survey_whose_time_passed_unseen_is_closed_not_announced(db_session, survey_of, follower):
    follower()
    now = utcnow()
    survey = survey_of(closes_at=now + HOUR, grace_minutes=0)
    result = survey_schedule(db_session, now + 2 * HOUR)  # the scheduler was down meanwhile
    assert result == {"closed": 1, "opened": 0, "reminded": 0}
    assert told(db_session, "survey.opened") == [] == told(db_session, "survey.reminder")
    db_session.refresh(survey)
    assert survey.status == SurveyStatus.CLOSED


def test_the_reminder_reaches_only_those_without_a_submitted_response_once(
    db_session, survey_of, follower
):
    now = utcnow()
    answered, drafting, silent = follower(), follower(), follower()
    survey = survey_of(closes_at=now + 10 * DAY)
    version = survey.current_version_id
    responses_submit.submit(
        db_session, answered, survey, str(uuid.uuid4()), version, GAS, "fr", now
    )
    responses_submit.save_draft(
        db_session, drafting, survey, str(uuid.uuid4()), version, {}, "fr", now
    )

    assert survey_schedule(db_session, now)["reminded"] == 0  # ten days before: too early
    assert survey_schedule(db_session, now + 9 * DAY - timedelta(minutes=1))["reminded"] == 0
    assert survey_schedule(db_session, now + 9 * DAY)["reminded"] == 1
    assert survey_schedule(db_session, now + 9 * DAY + HOUR)["reminded"] == 0

    notes = told(db_session, "survey.reminder")
    assert [n.user_id for n in notes] == sorted([drafting.id, silent.id])
    assert {n.dedupe_key for n in notes} == {f"survey:{survey.id}:reminder"}
    assert notes[0].data == {"survey_id": survey.id}
    # The closing time in the reader's zone (Lyon's) and language.
    closing = format_datetime(
        survey.closes_at, "medium", tzinfo=ZoneInfo("Europe/Paris"), locale="fr"
    )
    assert closing in notes[0].body_text


def test_a_short_survey_is_recalled_half_way(db_session, survey_of, follower):
    follower()
    now = utcnow()
    opens = now + timedelta(minutes=1)  # after its publication
    survey = survey_of(opens_at=opens, closes_at=opens + 10 * HOUR)
    assert reminder_moment(survey, DAY) == opens + 5 * HOUR
    survey_schedule(db_session, opens + HOUR)
    assert told(db_session, "survey.reminder") == []  # opened, not yet recalled
    assert len(told(db_session, "survey.opened")) == 1
    assert survey_schedule(db_session, opens + 5 * HOUR)["reminded"] == 1


def test_the_reminder_lead_is_configurable(app, db_session, survey_of, follower):
    follower()
    now = utcnow()
    survey_of(closes_at=now + 10 * DAY)
    app.config["SURVEY_REMINDER_HOURS"] = 48
    try:
        assert survey_schedule(db_session, now + 8 * DAY)["reminded"] == 1
    finally:
        app.config.pop("SURVEY_REMINDER_HOURS")


def test_anonymous_surveys_send_no_reminder(db_session, survey_of, follower):
    # Nobody can tell who answered an anonymous survey: a reminder would nag those who did.
    follower()
    now = utcnow()
    survey_of(closes_at=now + 10 * DAY, anonymous=True)
    result = survey_schedule(db_session, now + 9 * DAY + HOUR)
    assert result["opened"] == 1 and result["reminded"] == 0
    assert told(db_session, "survey.reminder") == []


GERMAN = {
    "title": {"de": "Ihre Heizung", "en": "Your heating"},
    "pages": [
        {
            "key": "home",
            "questions": [
                {
                    "key": "comfort",
                    "type": "scale",
                    "title": {"de": "Komfort im Winter", "en": "Comfort in winter"},
                    "required": False,
                    "scale": {"min": 1, "max": 5},
                }
            ],
        }
    ],
}


def test_a_german_follower_is_told_in_german(db_session, vienna, make_user):
    moderator = make_user(vienna, role=Role.MODERATOR)
    campaign = published_campaign(db_session, moderator, vienna, slug="hof")
    reader = make_user(vienna, locale="de")
    english = make_user(vienna, locale="en")
    for person in (reader, english):
        campaigns.follow_campaign(db_session, person, "hof")
    now = utcnow()
    survey = make_survey(db_session, moderator, campaign, definition=GERMAN, closes_at=now + DAY)
    survey_schedule(db_session, now + HOUR)

    by_user = {n.user_id: n for n in told(db_session, "survey.opened")}
    german, other = by_user[reader.id], by_user[english.id]
    assert german.locale == "de" and "Ihre Heizung" in german.subject
    assert "Your heating" in other.subject
    zone = ZoneInfo("Europe/Vienna")
    assert format_datetime(survey.closes_at, "medium", tzinfo=zone, locale="de") in (
        german.body_text
    )
    survey_schedule(db_session, now + 13 * HOUR)  # past half of its day
    reminders = {n.user_id: n for n in told(db_session, "survey.reminder")}
    assert "Ihre Heizung" in reminders[reader.id].body_html


# --- two schedulers at once, on a database committed for real -------------------------------


def test_two_schedulers_at_once_tell_each_follower_once(committed_app):
    live = committed_app
    now = utcnow()
    with session_of(live) as session:
        _city, root, people, campaign = live_campaign(session, 12)
        for person in people:
            campaigns.follow_campaign(session, person, "c")
        surveys = [
            make_survey(session, root, campaign, definition=in_french(DEFINITION), **s)
            for s in (
                {},
                {"closes_at": now + timedelta(seconds=90)},
                {"opens_at": now + timedelta(seconds=1)},
            )
        ]
        session.commit()
        ids = [s.id for s in surveys]

    def scheduler():
        with live.app_context(), session_of(live) as session:
            return survey_schedule(session, now + timedelta(minutes=1))

    results, errors = at_once(4, scheduler)
    assert errors == []
    assert sum(r["opened"] for r in results) == 3
    # The one closing 90 s after publication is recalled after half of that.
    assert sum(r["reminded"] for r in results) == 1
    with session_of(live) as session:
        twice = session.execute(
            sa.select(Notification.user_id, Notification.dedupe_key, sa.func.count())
            .group_by(Notification.user_id, Notification.dedupe_key)
            .having(sa.func.count() > 1)
        ).all()
        keys = session.execute(
            sa.select(Notification.dedupe_key, sa.func.count()).group_by(Notification.dedupe_key)
        ).all()
        told_at = session.scalars(sa.select(Survey.opening_told_at).where(Survey.id.in_(ids)))
        assert all(moment is not None for moment in told_at)
    assert twice == []
    assert dict(keys) == {
        f"survey:{ids[0]}:opened": 12,
        f"survey:{ids[1]}:opened": 12,
        f"survey:{ids[2]}:opened": 12,
        f"survey:{ids[1]}:reminder": 12,
    }
