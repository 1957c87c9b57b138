"""Residents and the surveys they answer: what is open to them, their responses, withdrawal.

Saving drafts and submitting are in ``surveys.responses_submit``, storing a submission once
whatever the resends in ``surveys.responses_store``, the checks they share in
``surveys.responses_checks``.

Decisions:
- Anonymous surveys link no response to an account: no server drafts (the phone keeps them
  until it submits), and responses cannot be listed or withdrawn by account. The status of an
  anonymous survey in the list is ``unknown``: only the phone knows.
- Withdrawing a submitted response on a survey answered once per person gives the person's
  place back (the ``single_owner_id`` key): they may answer again.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.errors import NotFound
from app.models import User
from campaigns.models import Campaign, CampaignStatus
from surveys.models import ResponseAnswer, ResponseStatus, Survey, SurveyResponse, SurveyStatus
from surveys.responses_checks import (
    anonymous_conflict,
    ensure_answerable,
    ensure_collecting,
    find_response,
    owned_by,
)

NOT_STARTED, DRAFT, SUBMITTED, UNKNOWN = "not_started", "draft", "submitted", "unknown"


#: Built once (every answering request runs it): the survey, what the policy and the phone
#: need of its campaign (not its texts or phases), and the current version, the one answers
#: are usually checked against, in one statement.
_ANSWERABLE = (
    sa.select(Survey)
    .where(Survey.id == sa.bindparam("survey_id"))
    .options(
        joinedload(Survey.campaign)
        .load_only(Campaign.city_id, Campaign.slug, Campaign.status)
        .lazyload(Campaign.phases),
        joinedload(Survey.current_version),
    )
)


def get_answerable_survey(session: Session, user: User, survey_id: int) -> Survey:
    """A survey the person may answer (open or closed); anything else reads as not found."""
    survey = session.scalar(_ANSWERABLE, {"survey_id": survey_id})
    if survey is None:
        raise NotFound()
    ensure_answerable(user, survey)
    return survey


@dataclass
class OpenSurvey:
    """A survey collecting now, and where the person stands in it."""

    survey: Survey
    #: The status of the person's latest response (withdrawn ones aside): not_started, draft or
    #: submitted; unknown on anonymous surveys, whose responses are linked to nobody.
    status: str
    #: How many of the person's responses are submitted (None on anonymous surveys).
    submitted: int | None
    #: Whether a new response would be taken: always where several are allowed, else until one
    #: is submitted (anonymous surveys cannot tell, so always; the phone knows).
    can_start: bool


def open_surveys(session: Session, user: User, now: datetime) -> list[OpenSurvey]:
    """Surveys of the person's city collecting now, each with where they stand in it."""
    surveys = list(
        session.scalars(
            sa.select(Survey)
            .join(Campaign, Campaign.id == Survey.campaign_id)
            .where(
                Survey.city_id == user.city_id,
                Survey.status == SurveyStatus.PUBLISHED,
                Survey.current_version_id.is_not(None),
                Campaign.status == CampaignStatus.PUBLISHED,
                sa.or_(Survey.opens_at.is_(None), Survey.opens_at <= now),
                sa.or_(Survey.closes_at.is_(None), Survey.closes_at > now),
            )
            .order_by(Survey.published_at.desc(), Survey.id.desc())
        )
    )
    mine: dict[int, tuple[str, int]] = {}
    if surveys:
        # Per survey, one row: the latest response's status and the count of submitted ones.
        per_survey = {"partition_by": SurveyResponse.survey_id}
        latest = sa.func.row_number().over(
            **per_survey, order_by=(SurveyResponse.started_at.desc(), SurveyResponse.id.desc())
        )
        submitted = sa.func.count(
            sa.case((SurveyResponse.status == ResponseStatus.SUBMITTED, 1))
        ).over(**per_survey)
        ranked = (
            sa.select(
                SurveyResponse.survey_id,
                SurveyResponse.status,
                submitted.label("submitted"),
                latest.label("latest"),
            )
            .where(
                SurveyResponse.user_id == user.id,
                SurveyResponse.survey_id.in_([s.id for s in surveys]),
                SurveyResponse.status != ResponseStatus.WITHDRAWN,
            )
            .subquery()
        )
        rows = session.execute(
            sa.select(ranked.c.survey_id, ranked.c.status, ranked.c.submitted).where(
                ranked.c.latest == 1
            )
        )
        mine = {survey_id: (status, count) for survey_id, status, count in rows}
    result = []
    for survey in surveys:
        if survey.anonymous:
            result.append(OpenSurvey(survey, UNKNOWN, None, can_start=True))
            continue
        status, count = mine.get(survey.id, (NOT_STARTED, 0))
        can_start = survey.allow_multiple or count == 0
        result.append(OpenSurvey(survey, status, count, can_start))
    return result


def list_mine(session: Session, user: User, survey: Survey) -> list[SurveyResponse]:
    """The person's drafts and submitted responses to a survey (none on anonymous surveys)."""
    ensure_answerable(user, survey)
    if survey.anonymous:
        return []
    return list(
        session.scalars(
            sa.select(SurveyResponse)
            .where(
                SurveyResponse.survey_id == survey.id,
                SurveyResponse.user_id == user.id,
                SurveyResponse.status.in_([ResponseStatus.DRAFT, ResponseStatus.SUBMITTED]),
            )
            .order_by(SurveyResponse.started_at, SurveyResponse.id)
        )
    )


def withdraw(session: Session, user: User, survey: Survey, client_uuid: str, now: datetime) -> None:
    """Take back a response (or discard a draft) while the survey collects; idempotent."""
    ensure_answerable(user, survey)
    if survey.anonymous:
        raise anonymous_conflict()
    response = owned_by(find_response(session, survey, client_uuid), user)
    if response is None:
        raise NotFound()
    if response.status == ResponseStatus.WITHDRAWN:
        return
    ensure_collecting(survey, now)
    if response.status == ResponseStatus.DRAFT:
        session.delete(response)
        session.flush()
        return
    session.execute(sa.delete(ResponseAnswer).where(ResponseAnswer.response_id == response.id))
    response.status = ResponseStatus.WITHDRAWN
    response.withdrawn_at = now
    response.updated_at = now
    # The answers go with it; the row stays so a late resend of this UUID is recognised.
    response.answers = {}
    # The person may answer again on a survey answered once.
    response.single_owner_id = None
    session.flush()
