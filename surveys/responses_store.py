"""Storing a checked submission once, however often and however concurrently it is sent.

A phone names each response with a UUID it generates, so a response sent again after a lost
answer, from an offline queue, or several times at once is recognised: the same UUID with the
same answers is the original response (stored once), with other answers it is refused. The
database's unique constraints settle races; the loser re-reads and answers as the winner did.

On surveys answered once per person, a submission takes the person's place (the
``single_owner_id`` key) and discards their other drafts.
"""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from app.errors import Conflict, NotFound
from app.models import User
from i18n import _
from surveys.models import ResponseAnswer, ResponseStatus, Survey, SurveyResponse, SurveyVersion
from surveys.responses_checks import already_answered, find_response


@dataclass
class Checked:
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


def store(session: Session, checked: Checked) -> tuple[SurveyResponse, bool]:
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
            draft = find_response(session, survey, checked.client_uuid)
            if draft is None:
                raise already_answered()
            replayed = stored_answer(draft, user, survey, fingerprint)
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


def stored_answer(
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
    return find_response(session, survey, draft.client_uuid)


def _after_losing(
    session: Session, user: User, survey: Survey, client_uuid: str, fingerprint: str
) -> SurveyResponse:
    winner = find_response(session, survey, client_uuid)
    if winner is not None and winner.status != ResponseStatus.DRAFT:
        return _replay(winner, user, survey, fingerprint)
    # Not this UUID: the person's one place was taken by another of their responses.
    raise already_answered()


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
