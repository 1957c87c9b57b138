"""Moderators build, version, publish and close surveys; nobody else may."""

import copy
from datetime import timedelta

import pytest

from app.db import utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.models import Role
from campaigns import service as campaigns
from surveys import responses_submit, service
from surveys.models import SurveyStatus, VersionStatus
from tests.surveys.helpers import DEFINITION, GAS, make_survey


def test_a_moderator_builds_and_publishes_a_survey(db_session, moderator, campaign):
    survey = make_survey(db_session, moderator, campaign, publish=False)
    assert survey.status == SurveyStatus.DRAFT
    assert survey.current_version is None
    service.publish(db_session, moderator, survey)
    assert survey.status == SurveyStatus.PUBLISHED
    assert survey.published_at is not None
    version = survey.current_version
    assert (version.number, version.status) == (1, VersionStatus.PUBLISHED)
    assert version.definition["pages"][0]["questions"][0]["key"] == "heating"
    assert service.is_collecting(survey, utcnow())


def test_only_the_citys_moderators_and_admins_manage_surveys(
    db_session, lyon, vienna, make_user, moderator, campaign
):
    survey = make_survey(db_session, moderator, campaign)
    resident = make_user(lyon)
    staff = make_user(lyon, role=Role.STAFF)
    stranger = make_user(vienna, role=Role.MODERATOR)
    with pytest.raises(NotAllowed):
        service.create_survey(db_session, resident, campaign, title={"fr": "Non"})
    with pytest.raises(NotAllowed):
        service.close(db_session, staff, survey)
    with pytest.raises(NotFound):  # another city's moderator does not even learn it exists
        service.draft_version(db_session, stranger, survey)
    admin = make_user(lyon, role=Role.ADMIN)
    root = make_user(vienna, platform_admin=True)
    assert service.draft_version(db_session, admin, survey).number == 2
    service.close(db_session, root, survey)
    assert survey.status == SurveyStatus.CLOSED


def test_a_definition_is_checked_against_the_citys_languages(db_session, moderator, campaign):
    survey = service.create_survey(db_session, moderator, campaign, title={"fr": "Titre"})
    broken = copy.deepcopy(DEFINITION)
    broken["title"] = {"de": "Heizung"}  # not a language of Lyon, and no French title
    with pytest.raises(Invalid) as raised:
        service.save_definition(db_session, moderator, survey, broken)
    assert "title" in raised.value.errors
    with pytest.raises(Invalid) as raised:
        service.create_survey(db_session, moderator, campaign, title={"en": "Only English"})
    assert "title" in raised.value.errors


def test_a_survey_without_questions_cannot_be_published(db_session, moderator, campaign):
    survey = service.create_survey(db_session, moderator, campaign, title={"fr": "Vide"})
    with pytest.raises(Invalid) as raised:
        service.publish(db_session, moderator, survey)
    assert "definition" in raised.value.errors
    assert survey.status == SurveyStatus.DRAFT


def test_a_survey_of_a_draft_campaign_cannot_be_published(db_session, moderator, lyon):
    draft = campaigns.create_campaign(db_session, moderator, lyon, slug="later", title={"fr": "B"})
    survey = make_survey(db_session, moderator, draft, publish=False)
    with pytest.raises(Conflict) as raised:
        service.publish(db_session, moderator, survey)
    assert raised.value.slug == "campaign-not-published"


def test_editing_a_published_survey_makes_a_new_draft_version(db_session, moderator, campaign):
    survey = make_survey(db_session, moderator, campaign)
    first = survey.current_version
    draft = service.draft_version(db_session, moderator, survey)
    assert (draft.number, draft.status) == (2, VersionStatus.DRAFT)
    assert service.draft_version(db_session, moderator, survey) is draft  # one draft at a time
    changed = copy.deepcopy(DEFINITION)
    changed["pages"][0]["questions"][0]["title"]["fr"] = "Quel chauffage ?"
    service.save_definition(db_session, moderator, survey, changed)
    # Residents still answer the frozen first version until the new one is published.
    assert survey.current_version is first
    assert first.definition["pages"][0]["questions"][0]["title"]["fr"] == (
        "Comment chauffez-vous ?"
    )
    service.publish(db_session, moderator, survey)
    assert survey.current_version is draft
    assert draft.status == VersionStatus.PUBLISHED
    assert first.status == VersionStatus.SUPERSEDED
    with pytest.raises(Conflict) as raised:
        service.publish(db_session, moderator, survey)
    assert raised.value.slug == "nothing-to-publish"


def test_audience_settings_are_locked_once_someone_answered(
    db_session, moderator, campaign, resident
):
    survey = make_survey(db_session, moderator, campaign)
    service.update_settings(db_session, moderator, survey, anonymous=True)
    service.update_settings(db_session, moderator, survey, anonymous=False, grace_minutes=15)
    responses_submit.submit(
        db_session,
        resident,
        survey,
        "0b5c1c9e-3f7e-4c59-9a52-0b0f3c1c6a11",
        survey.current_version_id,
        GAS,
        "fr",
        utcnow(),
    )
    with pytest.raises(Conflict) as raised:
        service.update_settings(db_session, moderator, survey, allow_multiple=True)
    assert raised.value.slug == "responses-exist"
    # Times and grace may still change.
    closes = utcnow() + timedelta(days=3)
    service.update_settings(db_session, moderator, survey, closes_at=closes, grace_minutes=30)
    assert (survey.closes_at, survey.grace_minutes) == (closes, 30)


def test_settings_are_checked(db_session, moderator, campaign):
    now = utcnow()
    with pytest.raises(Invalid) as raised:
        service.create_survey(
            db_session,
            moderator,
            campaign,
            title={"fr": "Dates"},
            opens_at=now,
            closes_at=now - timedelta(hours=1),
            grace_minutes=-5,
        )
    assert set(raised.value.errors) == {"closes_at", "grace_minutes"}


def test_collecting_follows_opening_closing_and_manual_close(db_session, moderator, campaign):
    now = utcnow()
    survey = make_survey(
        db_session,
        moderator,
        campaign,
        opens_at=now + timedelta(hours=1),
        closes_at=now + timedelta(days=2),
    )
    assert not service.is_collecting(survey, now)
    assert service.is_collecting(survey, now + timedelta(hours=2))
    assert not service.is_collecting(survey, now + timedelta(days=2))
    service.close(db_session, moderator, survey, now=now + timedelta(hours=3))
    assert not service.is_collecting(survey, now + timedelta(hours=4))
    assert service.closing_moment(survey) == now + timedelta(hours=3)
    with pytest.raises(Conflict):
        service.draft_version(db_session, moderator, survey)
