"""What a workshop led to: minutes for the organisers, links to the ideas and surveys that came
out of it, and a summary for the people who attended, published once.

Decisions:
- Minutes are rich text, sanitised with the allow-list of ``app.richtext`` before they are
  stored; the summary is translated, in the markdown subset of ideas/text.py.
- Outcomes point at what residents can open: published ideas on published boards of the
  workshop's campaign, and published or closed surveys of the same campaign.
- The summary is published once (a conditional UPDATE on ``summary_published_at IS NULL``),
  after the workshop is completed, and tells the attendees; corrections made afterwards are
  shown but told to nobody.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import MAX_ID, utcnow
from app.errors import Conflict, Invalid, NotFound
from app.models import User
from app.policy import ensure
from app.richtext import from_input
from campaigns.service import ensure_not_archived
from i18n import _
from i18n.content import check_translated
from ideas.models import Board, BoardStatus, Idea, IdeaState
from surveys.models import Survey, SurveyStatus
from workshops import notices
from workshops.models import Outcome, Workshop, WorkshopStatus

MAX_MINUTES = 50_000
MAX_SUMMARY = 5000
MAX_NOTE = 1000
#: Surveys residents can open from a workshop's outcomes.
OPEN_SURVEYS = (SurveyStatus.PUBLISHED, SurveyStatus.CLOSED)


def _ensure_recordable(actor: User, workshop: Workshop) -> None:
    ensure(actor, "workshop.manage", workshop)
    ensure_not_archived(workshop.campaign)
    if workshop.status not in (WorkshopStatus.PUBLISHED, WorkshopStatus.COMPLETED):
        raise Conflict(
            _("Outcomes are recorded for workshops that are published or over."),
            slug="not-published",
        )


def record_minutes(session: Session, actor: User, workshop: Workshop, html: str) -> Workshop:
    """Keep the minutes (rich text, sanitised); they replace the earlier ones."""
    _ensure_recordable(actor, workshop)
    if not isinstance(html, str) or len(html) > MAX_MINUTES:
        raise Invalid(
            errors={"minutes": [_("Longer than the maximum length of %(max)d.", max=MAX_MINUTES)]}
        )
    workshop.minutes = from_input(html)
    workshop.updated_at = utcnow()
    session.flush()
    return workshop


def _survey_of_campaign(
    session: Session, workshop: Workshop, survey_id: int | None
) -> Survey | None:
    if survey_id is None or not 0 < survey_id <= MAX_ID:
        return None
    survey = session.get(Survey, survey_id)
    if survey is None or survey.campaign_id != workshop.campaign_id:
        return None
    return survey


def set_summary(
    session: Session,
    actor: User,
    workshop: Workshop,
    summary: dict,
    follow_up_survey_id: int | None,
) -> Workshop:
    """Write the summary for attendees and choose the survey that follows up, if any."""
    _ensure_recordable(actor, workshop)
    city = workshop.city
    errors: dict = {}
    texts = check_translated(
        {"summary": summary},
        {"summary": MAX_SUMMARY},
        city.enabled_locales,
        city.default_locale,
        errors,
    )
    if follow_up_survey_id is not None and (
        _survey_of_campaign(session, workshop, follow_up_survey_id) is None
    ):
        errors["follow_up_survey_id"] = [_("Choose a survey of this workshop's campaign.")]
    if errors:
        raise Invalid(errors=errors)
    workshop.summary = texts["summary"]
    workshop.follow_up_survey_id = follow_up_survey_id
    workshop.updated_at = utcnow()
    session.flush()
    return workshop


def _target_problem(
    session: Session, workshop: Workshop, idea_id: int | None, survey_id: int | None
) -> dict | None:
    if (idea_id is None) == (survey_id is None):
        return {"idea_id": [_("Link either an idea or a survey.")]}
    if idea_id is not None:
        idea = session.get(Idea, idea_id) if 0 < idea_id <= MAX_ID else None
        board = session.get(Board, idea.board_id) if idea is not None else None
        if (
            board is None
            or board.campaign_id != workshop.campaign_id
            or board.status != BoardStatus.PUBLISHED
            or idea.state != IdeaState.PUBLISHED
        ):
            return {"idea_id": [_("Choose a published idea on a board of this campaign.")]}
        return None
    survey = _survey_of_campaign(session, workshop, survey_id)
    if survey is None or survey.status not in OPEN_SURVEYS:
        return {"survey_id": [_("Choose a published survey of this campaign.")]}
    return None


def add_outcome(
    session: Session,
    actor: User,
    workshop: Workshop,
    *,
    idea_id: int | None = None,
    survey_id: int | None = None,
    note: dict | None = None,
) -> Outcome:
    """Link an idea or a survey the workshop led to, with a translated note."""
    _ensure_recordable(actor, workshop)
    city = workshop.city
    errors = _target_problem(session, workshop, idea_id, survey_id) or {}
    texts = check_translated(
        {"note": note}, {"note": MAX_NOTE}, city.enabled_locales, city.default_locale, errors
    )
    if errors:
        raise Invalid(errors=errors)
    field = "idea_id" if idea_id is not None else "survey_id"
    linked = _("This is an outcome of the workshop already.")
    target = getattr(Outcome, field) == (idea_id if idea_id is not None else survey_id)
    if session.scalar(sa.select(Outcome.id).where(Outcome.workshop_id == workshop.id, target)):
        raise Invalid(errors={field: [linked]})
    outcome = Outcome(
        workshop_id=workshop.id,
        idea_id=idea_id,
        survey_id=survey_id,
        note=texts["note"],
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(outcome)
    except IntegrityError:
        # Linked a moment ago by another moderator.
        raise Invalid(errors={field: [linked]}) from None
    return outcome


def remove_outcome(session: Session, actor: User, workshop: Workshop, outcome_id: int) -> None:
    """Unlink an outcome of this workshop."""
    _ensure_recordable(actor, workshop)
    removed = 0
    if 0 < outcome_id <= MAX_ID:
        removed = session.execute(
            sa.delete(Outcome).where(Outcome.id == outcome_id, Outcome.workshop_id == workshop.id)
        ).rowcount
    if not removed:
        raise NotFound()


def publish_summary(
    session: Session, actor: User, workshop: Workshop, now: datetime | None = None
) -> Workshop:
    """Publish the summary of a completed workshop, once, and tell those who attended."""
    ensure(actor, "workshop.manage", workshop)
    ensure_not_archived(workshop.campaign)
    now = now or utcnow()
    if workshop.status != WorkshopStatus.COMPLETED:
        raise Conflict(
            _("The summary is published once the workshop is over."), slug="not-completed"
        )
    if workshop.summary_published_at is not None:
        raise Conflict(_("The summary is published already."), slug="summary-published")
    errors = {}
    if not (workshop.summary or {}).get(workshop.city.default_locale):
        errors["summary"] = [_("Write the summary in the city's main language first.")]
    if workshop.follow_up_survey_id is not None:
        survey = session.get(Survey, workshop.follow_up_survey_id)
        if survey is None or survey.status != SurveyStatus.PUBLISHED:
            errors["follow_up_survey_id"] = [
                _("Publish the follow-up survey first, or choose none.")
            ]
    if errors:
        raise Invalid(errors=errors)
    session.flush()
    published = session.execute(
        sa.update(Workshop)
        .where(
            Workshop.id == workshop.id,
            Workshop.status == WorkshopStatus.COMPLETED,
            Workshop.summary_published_at.is_(None),
        )
        .values(summary_published_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(workshop)
    if not published:
        raise Conflict(_("The summary is published already."), slug="summary-published")
    notices.tell_summary(session, workshop, now=now)
    return workshop
