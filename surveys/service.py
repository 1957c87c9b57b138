"""Survey lifecycle for moderators: create, settings, versions of the questions, publish, close.

A survey's questions live in versions. Publishing freezes the draft version; editing a
published survey makes a new draft version (n + 1, a copy of the current one) that residents
do not see until it is published in turn. Responses keep the version they answered, so a
superseded version stays valid while the survey collects.

Decisions:
- A survey of a campaign that is not published cannot be published: residents could not reach
  it, and publishing tells the campaign's followers (later) that it opened.
- ``anonymous`` and ``allow_multiple`` cannot change once a response (even a draft) exists:
  the meaning of the stored rows (account link, one per person) depends on them.
- Opening and closing times are UTC here; the console converts from the city's time zone.
"""

import copy
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Conflict, Invalid
from app.models import City, User
from app.policy import ensure
from campaigns.models import Campaign, CampaignStatus
from campaigns.service import ensure_not_archived
from i18n import _
from i18n.content import cleaned, translation_problems
from surveys.definition import blank_definition
from surveys.definition_check import check_definition
from surveys.models import (
    Survey,
    SurveyResponse,
    SurveyStatus,
    SurveyVersion,
    VersionStatus,
)

#: Longest survey title per language.
MAX_TITLE_LENGTH = 200
#: Longest grace after closing a moderator may choose: one week.
MAX_GRACE_MINUTES = 7 * 24 * 60
SETTINGS = ("opens_at", "closes_at", "grace_minutes", "allow_multiple", "anonymous")
#: Settings that change what stored responses mean.
LOCKED_BY_RESPONSES = ("allow_multiple", "anonymous")


def city_locales(city: City) -> list[str]:
    """The city's content languages, its default first (what definitions are checked against)."""
    return [city.default_locale] + [
        locale for locale in city.enabled_locales if locale != city.default_locale
    ]


def is_collecting(survey: Survey, now: datetime) -> bool:
    """Whether residents may start and submit responses at ``now`` (grace aside)."""
    return (
        survey.status == SurveyStatus.PUBLISHED
        and survey.current_version_id is not None
        and (survey.opens_at is None or survey.opens_at <= now)
        and (survey.closes_at is None or now < survey.closes_at)
    )


def closing_moment(survey: Survey) -> datetime | None:
    """When the survey stopped (or will stop) collecting: its closing time or its manual close."""
    moments = [survey.closes_at]
    if survey.status == SurveyStatus.CLOSED:
        moments.append(survey.closed_at)
    moments = [moment for moment in moments if moment is not None]
    return min(moments, default=None)


def _check_title(city: City, title: dict | None, errors: dict) -> dict:
    texts = cleaned(title)
    problems = translation_problems(texts, city.enabled_locales, MAX_TITLE_LENGTH)
    if problems:
        errors["title"] = problems
    elif not texts.get(city.default_locale):
        errors["title"] = [_("A title in the city's main language is required.")]
    return texts


def _check_settings(values: dict, current: Survey | None, errors: dict) -> dict:
    """The settings among ``values``, checked together with those they do not change."""
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise TypeError(f"not survey settings: {sorted(unknown)}")
    for field in ("opens_at", "closes_at"):
        moment = values.get(field)
        if moment is not None and moment.tzinfo is None:
            errors[field] = [_("Not a valid date and time with a time-zone offset.")]
    opens_at = values.get("opens_at", current.opens_at if current else None)
    closes_at = values.get("closes_at", current.closes_at if current else None)
    if not errors and opens_at is not None and closes_at is not None and closes_at <= opens_at:
        errors["closes_at"] = [_("The survey must close after it opens.")]
    grace = values.get("grace_minutes")
    if grace is not None and not 0 <= grace <= MAX_GRACE_MINUTES:
        errors["grace_minutes"] = [
            _("Must be between %(min)d and %(max)d.", min=0, max=MAX_GRACE_MINUTES)
        ]
    return values


def create_survey(
    session: Session, actor: User, campaign: Campaign, *, title: dict, **settings
) -> Survey:
    """A new draft survey of a campaign with an empty first version to fill in."""
    ensure(actor, "survey.manage", campaign)
    ensure_not_archived(campaign)
    errors: dict = {}
    texts = _check_title(campaign.city, title, errors)
    settings = _check_settings(settings, None, errors)
    if errors:
        raise Invalid(errors=errors)
    survey = Survey(
        city_id=campaign.city_id, campaign=campaign, status=SurveyStatus.DRAFT, **settings
    )
    session.add(survey)
    session.flush()
    session.add(
        SurveyVersion(
            survey_id=survey.id,
            number=1,
            status=VersionStatus.DRAFT,
            definition=blank_definition(texts),
        )
    )
    session.flush()
    return survey


def has_responses(session: Session, survey: Survey) -> bool:
    return (
        session.scalar(
            sa.select(SurveyResponse.id).where(SurveyResponse.survey_id == survey.id).limit(1)
        )
        is not None
    )


def update_settings(session: Session, actor: User, survey: Survey, **values) -> Survey:
    """Change opening/closing times (UTC), grace, and while nobody answered, the audience."""
    ensure(actor, "survey.manage", survey)
    if survey.status == SurveyStatus.CLOSED:
        raise Conflict(_("A closed survey cannot be changed."), slug="survey-closed")
    errors: dict = {}
    values = _check_settings(values, survey, errors)
    if errors:
        raise Invalid(errors=errors)
    changing = [f for f in LOCKED_BY_RESPONSES if f in values and values[f] != getattr(survey, f)]
    if changing and has_responses(session, survey):
        raise Conflict(
            _(
                "Whether the survey is anonymous or may be answered several times cannot "
                "change once people have started answering it."
            ),
            slug="responses-exist",
        )
    for field, value in values.items():
        setattr(survey, field, value)
    survey.updated_at = utcnow()
    session.flush()
    return survey


def _versions(session: Session, survey: Survey) -> list[SurveyVersion]:
    return list(
        session.scalars(
            sa.select(SurveyVersion)
            .where(SurveyVersion.survey_id == survey.id)
            .order_by(SurveyVersion.number)
        )
    )


def draft_version(session: Session, actor: User, survey: Survey) -> SurveyVersion:
    """The version moderators edit; on a published survey without one, a copy of the current."""
    ensure(actor, "survey.manage", survey)
    if survey.status == SurveyStatus.CLOSED:
        raise Conflict(_("A closed survey cannot be changed."), slug="survey-closed")
    versions = _versions(session, survey)
    draft = next((v for v in versions if v.status == VersionStatus.DRAFT), None)
    if draft is not None:
        return draft
    current = survey.current_version
    draft = SurveyVersion(
        survey_id=survey.id,
        number=versions[-1].number + 1,
        status=VersionStatus.DRAFT,
        # A deep copy: the published version's JSON must never change through the draft's.
        definition=copy.deepcopy(current.definition),
    )
    session.add(draft)
    session.flush()
    return draft


def save_definition(
    session: Session, actor: User, survey: Survey, definition: dict
) -> SurveyVersion:
    """Replace the draft version's questions after checking them (raises Invalid)."""
    draft = draft_version(session, actor, survey)
    previous = survey.current_version.definition if survey.current_version else None
    draft.definition = check_definition(definition, city_locales(survey.city), previous=previous)
    draft.updated_at = utcnow()
    survey.updated_at = draft.updated_at
    session.flush()
    return draft


def _has_questions(definition: dict) -> bool:
    return any(
        question.get("type") != "note"
        for page in definition.get("pages") or []
        for question in page.get("questions") or []
    )


def publish(session: Session, actor: User, survey: Survey, now: datetime | None = None) -> Survey:
    """Freeze the draft version and make it the one residents answer."""
    ensure(actor, "survey.manage", survey)
    if survey.status == SurveyStatus.CLOSED:
        raise Conflict(_("A closed survey cannot be changed."), slug="survey-closed")
    if survey.campaign.status != CampaignStatus.PUBLISHED:
        raise Conflict(
            _("Publish the campaign first: its residents cannot see this survey yet."),
            slug="campaign-not-published",
        )
    versions = _versions(session, survey)
    draft = next((v for v in versions if v.status == VersionStatus.DRAFT), None)
    if draft is None:
        raise Conflict(_("There are no changes to publish."), slug="nothing-to-publish")
    current = survey.current_version
    # Checked again: the city's languages may have changed since the draft was saved.
    definition = check_definition(
        draft.definition,
        city_locales(survey.city),
        previous=current.definition if current else None,
    )
    if not _has_questions(definition):
        raise Invalid(errors={"definition": [_("Add at least one question before publishing.")]})
    now = now or utcnow()
    if current is not None:
        current.status = VersionStatus.SUPERSEDED
    draft.definition = definition
    draft.status = VersionStatus.PUBLISHED
    draft.published_at = now
    survey.current_version = draft
    if survey.status == SurveyStatus.DRAFT:
        survey.status = SurveyStatus.PUBLISHED
        survey.published_at = now
    survey.updated_at = now
    session.flush()
    return survey


def close(session: Session, actor: User, survey: Survey, now: datetime | None = None) -> Survey:
    """Stop collecting now (responses started before still count within the grace period)."""
    ensure(actor, "survey.manage", survey)
    if survey.status != SurveyStatus.PUBLISHED:
        raise Conflict(_("Only a published survey can be closed."), slug="not-published")
    now = now or utcnow()
    survey.status = SurveyStatus.CLOSED
    survey.closed_at = now
    survey.updated_at = now
    session.flush()
    return survey
