"""The scheduler's job for surveys: tell followers one opened, close it, remind before closing.

Times are instants (UTC) here; the console reads and shows them in the city's time zone.
Each survey is handled in a transaction of its own, so one failure holds up no other.
Telling is claimed like updates' publication (updates/publishing.py): a conditional UPDATE
sets ``opening_told_at`` or ``reminded_at`` only where it is still NULL, and the scheduler
whose UPDATE changed no row tells nobody; ``notify`` also gets a dedupe key.

Decisions:
- Followers are told of the opening once and reminded once in the survey's life: moving its
  times afterwards tells nobody again.
- A reminder goes to the campaign's followers in the city who have no submitted response
  (those with only a draft are reminded). Anonymous surveys get no reminder: their responses
  are linked to no account, so a reminder would go to those who answered too.
- The reminder leaves ``SURVEY_REMINDER_HOURS`` (24) before closing, or half-way through the
  open period when that is shorter, so a survey open for a day is not announced and recalled
  in the same hour. The open period starts when residents could first answer: the later of
  publication and ``opens_at``.
- A survey closes once its closing time and its grace period have passed: until then a
  response started before closing may still arrive (surveys/responses_submit.py).
- Followers are told only while the campaign is published: an archived campaign's followers
  hear no more of it.
"""

import logging
from datetime import datetime, timedelta
from functools import partial

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app.db import utcnow
from app.jobs import each_alone
from app.models import User
from campaigns.models import Campaign, CampaignFollow, CampaignStatus
from notifications.service import notify
from surveys.models import ResponseStatus, Survey, SurveyResponse, SurveyStatus
from surveys.service import closing_moment, is_collecting

log = logging.getLogger("livinglab.surveys")

OPENED_KIND = "survey.opened"
REMINDER_KIND = "survey.reminder"
#: Surveys handled per step and run at most; the rest wait for the next run.
PER_RUN = 100
#: How long before closing followers are reminded, unless the open period is shorter.
DEFAULT_REMINDER_HOURS = 24


def survey_schedule(session: Session, now: datetime | None = None) -> dict:
    """Close surveys past their grace, tell followers of opened ones, remind before closing.

    Returns how many surveys were closed, announced and reminded in this run.
    """
    now = now or utcnow()
    lead = timedelta(hours=current_app.config.get("SURVEY_REMINDER_HOURS", DEFAULT_REMINDER_HOURS))
    closing = _closing_candidates(session, now)
    opening = _opening_candidates(session, now)
    reminding = _reminder_candidates(session, now, lead)
    session.commit()  # the searches are done; each survey is its own transaction
    each = partial(each_alone, session, now=now, subject="survey", logger=log)
    return {
        "closed": each(closing, _close_if_due, what="closed"),
        "opened": each(opening, _announce_opening, what="opening told"),
        "reminded": each(reminding, partial(_remind, lead=lead), what="reminded"),
    }


def _claim(session: Session, survey_id: int, column, now: datetime, *conditions) -> bool:
    """Set ``column`` to ``now`` if it is still NULL; True for the one caller that did."""
    claimed = session.execute(
        sa.update(Survey)
        .where(Survey.id == survey_id, column.is_(None), *conditions)
        .values({column: now})
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(claimed)


# --- closing --------------------------------------------------------------------------------


def _closing_candidates(session: Session, now: datetime) -> list[int]:
    # Grace is per survey: the SQL finds those past their closing time, Python adds the grace.
    return list(
        session.scalars(
            sa.select(Survey.id)
            .where(Survey.status == SurveyStatus.PUBLISHED, Survey.closes_at <= now)
            .order_by(Survey.closes_at, Survey.id)
            .limit(PER_RUN)
        )
    )


def _close_if_due(session: Session, survey_id: int, now: datetime) -> bool:
    survey = session.get(Survey, survey_id)
    if survey is None or survey.status != SurveyStatus.PUBLISHED:
        return False
    closing = closing_moment(survey)
    if closing is None or now < closing + timedelta(minutes=survey.grace_minutes):
        return False
    # Conditional: a moderator's close or another scheduler may have come first.
    closed = session.execute(
        sa.update(Survey)
        .where(Survey.id == survey_id, Survey.status == SurveyStatus.PUBLISHED)
        .values(status=SurveyStatus.CLOSED, closed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(closed)


# --- telling followers ----------------------------------------------------------------------


def followers(survey: Survey) -> sa.Select:
    """User ids of the campaign's followers living in the survey's city."""
    return (
        sa.select(CampaignFollow.user_id)
        .join(User, User.id == CampaignFollow.user_id)
        .where(CampaignFollow.campaign_id == survey.campaign_id, User.city_id == survey.city_id)
    )


def notification_context(survey: Survey) -> dict:
    """What the survey.* templates are given; texts stay translated dicts."""
    return {
        "survey_id": survey.id,
        "title": dict(survey.current_version.definition.get("title") or {}),
        "campaign_title": dict(survey.campaign.title),
        "closes_at": survey.closes_at,
    }


def _collecting_in_published_campaign() -> sa.Select:
    return (
        sa.select(Survey.id)
        .join(Campaign, Campaign.id == Survey.campaign_id)
        .where(
            Survey.status == SurveyStatus.PUBLISHED,
            Survey.current_version_id.is_not(None),
            Campaign.status == CampaignStatus.PUBLISHED,
        )
    )


def _opening_candidates(session: Session, now: datetime) -> list[int]:
    return list(
        session.scalars(
            _collecting_in_published_campaign()
            .where(
                Survey.opening_told_at.is_(None),
                sa.or_(Survey.opens_at.is_(None), Survey.opens_at <= now),
                sa.or_(Survey.closes_at.is_(None), Survey.closes_at > now),
            )
            .order_by(Survey.id)
            .limit(PER_RUN)
        )
    )


def _announce_opening(session: Session, survey_id: int, now: datetime) -> bool:
    survey = session.get(Survey, survey_id)
    if survey is None or not is_collecting(survey, now):
        return False
    if survey.campaign.status != CampaignStatus.PUBLISHED:
        return False
    if not _claim(session, survey_id, Survey.opening_told_at, now):
        return False  # told already, by another scheduler
    notify(
        session,
        followers(survey),
        OPENED_KIND,
        notification_context(survey),
        data={"survey_id": survey.id},
        dedupe_key=f"survey:{survey.id}:opened",
        now=now,
    )
    return True


def reminder_moment(survey: Survey, lead: timedelta) -> datetime | None:
    """When followers are reminded: ``lead`` before closing, or half-way if that is later."""
    if survey.closes_at is None or survey.published_at is None:
        return None
    started = max(m for m in (survey.opens_at, survey.published_at) if m is not None)
    period = survey.closes_at - started
    return survey.closes_at - min(lead, period / 2)


def _reminder_candidates(session: Session, now: datetime, lead: timedelta) -> list[int]:
    # The reminder is at most ``lead`` before closing; Python settles half-way periods.
    return list(
        session.scalars(
            _collecting_in_published_campaign()
            .where(
                Survey.reminded_at.is_(None),
                Survey.anonymous.is_(False),
                Survey.closes_at > now,
                Survey.closes_at <= now + lead,
                sa.or_(Survey.opens_at.is_(None), Survey.opens_at <= now),
            )
            .order_by(Survey.closes_at, Survey.id)
            .limit(PER_RUN)
        )
    )


def _remind(session: Session, survey_id: int, now: datetime, *, lead: timedelta) -> bool:
    survey = session.get(Survey, survey_id)
    if survey is None or survey.anonymous or not is_collecting(survey, now):
        return False
    if survey.campaign.status != CampaignStatus.PUBLISHED:
        return False
    moment = reminder_moment(survey, lead)
    if moment is None or now < moment:
        return False
    if not _claim(session, survey_id, Survey.reminded_at, now):
        return False
    submitted = sa.select(SurveyResponse.id).where(
        SurveyResponse.survey_id == survey.id,
        SurveyResponse.user_id == CampaignFollow.user_id,
        SurveyResponse.status == ResponseStatus.SUBMITTED,
    )
    notify(
        session,
        followers(survey).where(~submitted.exists()),
        REMINDER_KIND,
        notification_context(survey),
        data={"survey_id": survey.id},
        dedupe_key=f"survey:{survey.id}:reminder",
        now=now,
    )
    return True
