"""Residents answering a survey: drafts kept on the server, and submissions (also offline).

Both check before writing anything; a checked submission is stored, once whatever the
resends, by ``surveys.responses_store``.

Decisions:
- Grace: a submission arriving after the survey closed is taken within ``grace_minutes`` when
  the response was started before closing. Started means the server's draft was saved before
  then, or the phone says so with ``started_at`` (an offline phone never saved a draft); a
  claimed start is never later than its arrival, and at worst earns a lying phone the grace
  minutes it could have had anyway by saving a draft.
- Anonymous surveys keep no drafts on the server: the phone keeps them until it submits.
- On surveys answered once per person, no new draft is started once the person has answered.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid, NotFound
from app.models import User
from i18n import _
from surveys import answers as answer_rules
from surveys.models import ResponseStatus, Survey, SurveyResponse
from surveys.responses_checks import (
    already_answered,
    anonymous_conflict,
    answerable_version,
    ensure_answerable,
    ensure_collecting,
    find_response,
    owned_by,
)
from surveys.responses_store import Checked, store, stored_answer
from surveys.service import closing_moment, is_collecting


def _within_grace(survey: Survey, started_at: datetime | None, now: datetime) -> bool:
    """A response started before closing, arriving within the grace period after it."""
    closing = closing_moment(survey)
    if closing is None or started_at is None or survey.current_version_id is None:
        return False
    if survey.opens_at is not None and closing < survey.opens_at:
        return False
    return started_at < closing and now <= closing + timedelta(minutes=survey.grace_minutes)


def _person_answered(session: Session, survey: Survey, user: User) -> bool:
    return (
        session.scalar(
            sa.select(SurveyResponse.id).where(
                SurveyResponse.survey_id == survey.id,
                SurveyResponse.single_owner_id == user.id,
            )
        )
        is not None
    )


def save_draft(
    session: Session,
    user: User,
    survey: Survey,
    client_uuid: str,
    version_id: int,
    answers: dict,
    locale: str,
    now: datetime,
) -> SurveyResponse:
    """Keep unfinished answers on the server, to resume later or on another device."""
    ensure_answerable(user, survey)
    if survey.anonymous:
        raise anonymous_conflict()
    existing = find_response(session, survey, client_uuid)
    if existing is not None and owned_by(existing, user) is None:
        raise NotFound()
    ensure_collecting(survey, now)
    version = answerable_version(session, survey, version_id)
    errors = answer_rules.validate(version.definition, answers, complete=False)
    if errors:
        raise Invalid(errors={"answers": errors})
    if existing is None:
        if not survey.allow_multiple and _person_answered(session, survey, user):
            raise already_answered()
        draft = SurveyResponse(
            survey_id=survey.id,
            version_id=version.id,
            user_id=user.id,
            client_uuid=client_uuid,
            status=ResponseStatus.DRAFT,
            locale=locale,
            answers=answers,
            started_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(draft)
            return draft
        except IntegrityError:
            # The same draft saved a moment ago by a parallel request: update that one.
            existing = owned_by(find_response(session, survey, client_uuid), user)
            if existing is None:
                raise NotFound() from None
    if existing.status != ResponseStatus.DRAFT:
        raise Conflict(_("This response was already submitted."), slug="already-submitted")
    existing.version_id = version.id
    existing.answers = answers
    existing.locale = locale
    existing.updated_at = now
    session.flush()
    return existing


def submit(
    session: Session,
    user: User,
    survey: Survey,
    client_uuid: str,
    version_id: int,
    answers: dict,
    locale: str,
    now: datetime,
    started_at: datetime | None = None,
    before_writing: Callable[[], None] | None = None,
) -> tuple[SurveyResponse, bool]:
    """Submit a response; returns it and whether this call stored it (False: a resend).

    The checks only read, and ``before_writing`` is called once they passed, before anything
    is written (the API ends its reading transaction there). They read the stored response of
    the UUID only when it matters (invalid answers or a closed survey: a resend is answered as
    the first time, and a draft saved before closing counts for the grace period); otherwise
    storing finds it.
    """
    ensure_answerable(user, survey)
    version = answerable_version(session, survey, version_id)
    errors = answer_rules.validate(version.definition, answers, complete=True)
    fingerprint = None
    if not errors:
        answers = answer_rules.normalized(version.definition, answers)
        fingerprint = answer_rules.fingerprint(answers)
    single_owner_id = None if survey.allow_multiple or survey.anonymous else user.id
    checked = Checked(
        survey,
        user,
        client_uuid,
        version,
        values={
            "version_id": version.id,
            "status": ResponseStatus.SUBMITTED,
            "locale": locale,
            "answers": answers,
            "fingerprint": fingerprint,
            "submitted_at": now,
            "updated_at": now,
            "single_owner_id": single_owner_id,
        },
        started_at=min(started_at or now, now),
    )
    collecting = is_collecting(survey, now)
    if errors or not collecting:
        existing = find_response(session, survey, client_uuid)
        replayed = stored_answer(existing, user, survey, fingerprint)
        if replayed is not None:
            return replayed, False
        checked.draft = existing
    if errors:
        raise Invalid(errors={"answers": errors})
    checked.rows = answer_rules.answer_rows(version.definition, answers)
    if not collecting:
        draft_start = checked.draft.started_at if checked.draft is not None else None
        started = min((m for m in (draft_start, started_at) if m is not None), default=None)
        started = min(started, now) if started is not None else None
        if not _within_grace(survey, started, now):
            ensure_collecting(survey, now)
    if before_writing is not None:
        before_writing()
    return store(session, checked)
