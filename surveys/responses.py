"""Residents answering surveys: open surveys, drafts, submissions (also offline), withdrawal.

A phone names each response with a UUID it generates, so a response sent again after a lost
answer, from an offline queue, or several times at once is recognised: the same UUID with the
same answers is the original response (stored once), with other answers it is refused. The
database's unique constraints settle races; the loser re-reads and answers as the winner did.

Decisions:
- Grace: a submission arriving after the survey closed is taken within ``grace_minutes`` when
  the response was started before closing. Started means the server's draft was saved before
  then, or the phone says so with ``started_at`` (an offline phone never saved a draft); a
  claimed start is never later than its arrival, and at worst earns a lying phone the grace
  minutes it could have had anyway by saving a draft.
- Anonymous surveys link no response to an account: no server drafts (the phone keeps them
  until it submits), and responses cannot be listed or withdrawn by account. The status of an
  anonymous survey in the list is ``unknown``: only the phone knows.
- On surveys answered once per person, a submission takes the person's place (the
  ``single_owner_id`` key) and discards their other drafts; withdrawing gives the place back.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached

from app.errors import Conflict, Invalid, NotFound
from app.models import User
from app.policy import can
from campaigns.models import Campaign, CampaignStatus
from i18n import _
from surveys import answers as answer_rules
from surveys.models import (
    ResponseAnswer,
    ResponseStatus,
    Survey,
    SurveyResponse,
    SurveyStatus,
    SurveyVersion,
    VersionStatus,
)
from surveys.service import closing_moment, is_collecting

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
    if survey is None or not can(user, "survey.answer", survey):
        raise NotFound()
    return survey


def _ensure_answerable(user: User, survey: Survey) -> None:
    if not can(user, "survey.answer", survey):
        raise NotFound()


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


def _version(session: Session, survey: Survey, version_id: int) -> SurveyVersion:
    """A version residents have been given: published now or before, of this very survey."""
    if version_id == survey.current_version_id:
        version = survey.current_version  # loaded with the survey
    else:
        version = session.get(SurveyVersion, version_id)
    if (
        version is None
        or version.survey_id != survey.id
        or version.status not in (VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED)
    ):
        raise Invalid(errors={"version_id": [_("Not a version of this survey.")]})
    return version


def _find(session: Session, survey: Survey, client_uuid: str) -> SurveyResponse | None:
    return session.scalar(
        sa.select(SurveyResponse)
        .where(SurveyResponse.survey_id == survey.id, SurveyResponse.client_uuid == client_uuid)
        .execution_options(populate_existing=True)
    )


def _owned(response: SurveyResponse | None, user: User) -> SurveyResponse | None:
    """The response if it is the person's; another's reads as nonexistent."""
    if response is None or response.user_id is None or response.user_id != user.id:
        return None
    return response


def _closed() -> Conflict:
    return Conflict(_("This survey is closed: it no longer takes answers."), slug="survey-closed")


def _not_open_yet() -> Conflict:
    return Conflict(_("This survey is not open yet."), slug="survey-not-open")


def _anonymous() -> Conflict:
    return Conflict(
        _(
            "Answers to this anonymous survey are not linked to your account: they stay on "
            "your device until you submit them, and cannot be listed or withdrawn afterwards."
        ),
        slug="anonymous-survey",
    )


def _already_answered() -> Conflict:
    return Conflict(_("You have already answered this survey."), slug="already-answered")


def _ensure_collecting(survey: Survey, now: datetime) -> None:
    if is_collecting(survey, now):
        return
    if (
        survey.opens_at is not None
        and now < survey.opens_at
        and survey.status != SurveyStatus.CLOSED
    ):
        raise _not_open_yet()
    raise _closed()


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
    _ensure_answerable(user, survey)
    if survey.anonymous:
        raise _anonymous()
    existing = _find(session, survey, client_uuid)
    if existing is not None and _owned(existing, user) is None:
        raise NotFound()
    _ensure_collecting(survey, now)
    version = _version(session, survey, version_id)
    errors = answer_rules.validate(version.definition, answers, complete=False)
    if errors:
        raise Invalid(errors={"answers": errors})
    if existing is None:
        if not survey.allow_multiple and _person_answered(session, survey, user):
            raise _already_answered()
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
            existing = _owned(_find(session, survey, client_uuid), user)
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


def _replay(
    existing: SurveyResponse, user: User, survey: Survey, fingerprint: str | None
) -> SurveyResponse:
    """The answer to a submission whose UUID is already submitted (or withdrawn)."""
    if existing.status == ResponseStatus.WITHDRAWN:
        raise Conflict(_("This response was withdrawn."), slug="response-withdrawn")
    if not survey.anonymous and existing.user_id != user.id:
        raise Conflict(_("This response was already submitted."), slug="response-changed")
    if fingerprint is None or existing.fingerprint != fingerprint:
        raise Conflict(
            _("This response was already submitted with other answers."),
            slug="response-changed",
        )
    return existing


def _write_rows(session: Session, response: SurveyResponse, rows: list[dict]) -> None:
    if rows:  # one executemany (Core): the ORM would insert them row by row
        session.execute(
            ResponseAnswer.__table__.insert(),
            [{"survey_id": response.survey_id, "response_id": response.id, **r} for r in rows],
        )


@dataclass
class _Checked:
    """A submission that passed the checks: what to store."""

    survey: Survey
    user: User
    client_uuid: str
    version: SurveyVersion
    #: Columns of the submitted response.
    values: dict
    started_at: datetime
    #: Its answer rows (ResponseAnswer), made before anything is written.
    rows: list[dict] = field(default_factory=list)
    #: The stored draft of this UUID, when the checks needed to look it up.
    draft: SurveyResponse | None = None


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
    _ensure_answerable(user, survey)
    version = _version(session, survey, version_id)
    errors = answer_rules.validate(version.definition, answers, complete=True)
    fingerprint = None
    if not errors:
        answers = answer_rules.normalized(version.definition, answers)
        fingerprint = answer_rules.fingerprint(answers)
    single_owner_id = None if survey.allow_multiple or survey.anonymous else user.id
    checked = _Checked(
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
        existing = _find(session, survey, client_uuid)
        replayed = _stored(existing, user, survey, fingerprint)
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
            _ensure_collecting(survey, now)
    if before_writing is not None:
        before_writing()
    return _store(session, checked)


def _store(session: Session, checked: _Checked) -> tuple[SurveyResponse, bool]:
    """Store a checked submission; returns the response and whether this call stored it.

    A phone's new response, the common case, is inserted at once: the insert itself finds a
    UUID or a person's one place already taken (``ON CONFLICT DO NOTHING``), without a look-up
    first or a savepoint; only then is the stored response read to decide the answer.
    """
    survey, user, values = checked.survey, checked.user, checked.values
    fingerprint = values["fingerprint"]
    draft, response = checked.draft, None
    if draft is None:
        response = _insert_new(
            session,
            survey_id=survey.id,
            user_id=None if survey.anonymous else user.id,
            client_uuid=checked.client_uuid,
            started_at=checked.started_at,
            **values,
        )
        if response is None:
            # Taken: by this UUID (sent before, a parallel send, a draft) or by the person's
            # other response on a survey answered once.
            draft = _find(session, survey, checked.client_uuid)
            if draft is None:
                raise _already_answered()
            replayed = _stored(draft, user, survey, fingerprint)
            if replayed is not None:
                return replayed, False
    if response is None:
        response = _submit_draft(session, survey, draft, values)
        if response is None:
            return _after_losing(session, user, survey, checked.client_uuid, fingerprint), False
    _write_rows(session, response, checked.rows)
    if values["single_owner_id"] is not None:
        _discard_other_drafts(session, survey, user, response)
    return response, True


def _stored(
    existing: SurveyResponse | None, user: User, survey: Survey, fingerprint: str | None
) -> SurveyResponse | None:
    """The answer to a submission whose UUID is stored already: another person's reads as
    nonexistent, a submitted (or withdrawn) one is replayed; None for no response or a draft."""
    if existing is None:
        return None
    if not survey.anonymous and existing.user_id != user.id:
        raise NotFound()  # another person's UUID: as if it did not exist
    if existing.status != ResponseStatus.DRAFT:
        return _replay(existing, user, survey, fingerprint)
    return None


def _insert_statement(insert) -> sa.Insert:
    table = SurveyResponse.__table__
    return insert(table).on_conflict_do_nothing().returning(table.c.id)


#: Built once, per database: a submission runs one of them.
_INSERT = {
    "postgresql": _insert_statement(postgresql.insert),
    "sqlite": _insert_statement(sqlite.insert),
}


def _insert_new(session: Session, **values) -> SurveyResponse | None:
    """Insert a response, or nothing (None) when its UUID or its person's place is taken."""
    statement = _INSERT[session.get_bind().dialect.name]
    response_id = session.scalar(statement, values)
    if response_id is None:
        return None
    # The row as inserted, in the session without reading it back.
    response = SurveyResponse(id=response_id, withdrawn_at=None, **values)
    make_transient_to_detached(response)
    session.add(response)
    return response


def _submit_draft(
    session: Session, survey: Survey, draft: SurveyResponse, values: dict
) -> SurveyResponse | None:
    """The draft turned into the response; None when a parallel submission of it, or the
    person's other response, won."""
    try:
        with session.begin_nested():
            # Only one of parallel submissions turns the draft into the response.
            done = session.execute(
                sa.update(SurveyResponse)
                .where(
                    SurveyResponse.id == draft.id,
                    SurveyResponse.status == ResponseStatus.DRAFT,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:
                return None
    except IntegrityError:
        return None
    return _find(session, survey, draft.client_uuid)


def _after_losing(
    session: Session, user: User, survey: Survey, client_uuid: str, fingerprint: str
) -> SurveyResponse:
    winner = _find(session, survey, client_uuid)
    if winner is not None and winner.status != ResponseStatus.DRAFT:
        return _replay(winner, user, survey, fingerprint)
    # Not this UUID: the person's one place was taken by another of their responses.
    raise _already_answered()


def _discard_other_drafts(
    session: Session, survey: Survey, user: User, kept: SurveyResponse
) -> None:
    session.execute(
        sa.delete(SurveyResponse).where(
            SurveyResponse.survey_id == survey.id,
            SurveyResponse.user_id == user.id,
            SurveyResponse.status == ResponseStatus.DRAFT,
            SurveyResponse.id != kept.id,
        )
    )
    session.flush()


def list_mine(session: Session, user: User, survey: Survey) -> list[SurveyResponse]:
    """The person's drafts and submitted responses to a survey (none on anonymous surveys)."""
    _ensure_answerable(user, survey)
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
    _ensure_answerable(user, survey)
    if survey.anonymous:
        raise _anonymous()
    response = _owned(_find(session, survey, client_uuid), user)
    if response is None:
        raise NotFound()
    if response.status == ResponseStatus.WITHDRAWN:
        return
    _ensure_collecting(survey, now)
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
