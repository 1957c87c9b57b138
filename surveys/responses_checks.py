"""The checks every answering operation makes: who may answer, which version, still collecting.

Refusals are problems the phone can tell apart by their slug (closed, not open yet, anonymous,
already answered); another person's response reads as nonexistent.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid, NotFound
from app.models import User
from app.policy import can
from i18n import _
from surveys.models import Survey, SurveyResponse, SurveyStatus, SurveyVersion, VersionStatus
from surveys.service import is_collecting


def ensure_answerable(user: User, survey: Survey) -> None:
    """A survey the person may not answer reads as nonexistent."""
    if not can(user, "survey.answer", survey):
        raise NotFound()


def answerable_version(session: Session, survey: Survey, version_id: int) -> SurveyVersion:
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


def find_response(session: Session, survey: Survey, client_uuid: str) -> SurveyResponse | None:
    """The survey's response of this UUID, whoever's, read afresh from the database."""
    return session.scalar(
        sa.select(SurveyResponse)
        .where(SurveyResponse.survey_id == survey.id, SurveyResponse.client_uuid == client_uuid)
        .execution_options(populate_existing=True)
    )


def owned_by(response: SurveyResponse | None, user: User) -> SurveyResponse | None:
    """The response if it is the person's; another's reads as nonexistent."""
    if response is None or response.user_id is None or response.user_id != user.id:
        return None
    return response


def _closed() -> Conflict:
    return Conflict(_("This survey is closed: it no longer takes answers."), slug="survey-closed")


def _not_open_yet() -> Conflict:
    return Conflict(_("This survey is not open yet."), slug="survey-not-open")


def anonymous_conflict() -> Conflict:
    return Conflict(
        _(
            "Answers to this anonymous survey are not linked to your account: they stay on "
            "your device until you submit them, and cannot be listed or withdrawn afterwards."
        ),
        slug="anonymous-survey",
    )


def already_answered() -> Conflict:
    return Conflict(_("You have already answered this survey."), slug="already-answered")


def ensure_collecting(survey: Survey, now: datetime) -> None:
    """Refuse unless the survey takes answers at ``now`` (not open yet, or closed)."""
    if is_collecting(survey, now):
        return
    if (
        survey.opens_at is not None
        and now < survey.opens_at
        and survey.status != SurveyStatus.CLOSED
    ):
        raise _not_open_yet()
    raise _closed()
