"""The city's answer to an idea: an official status with a translated public response.

Each answer is a step of the idea's history (``IdeaStatusChange``); the latest is the idea's
``official_status``. The author and every supporter are told, each in their language, with the
response in that language when staff wrote one, else in the city's. A response missing in some
of the city's languages is accepted (staff may add it with the next step) and reported.
"""

import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit
from app.db import utcnow
from app.errors import Conflict, Invalid
from app.models import City, User
from app.policy import ensure
from i18n import _, _l
from i18n.content import cleaned, missing_locales, translation_problems
from ideas import service
from ideas.models import Idea, IdeaState, IdeaStatusChange, OfficialStatus, Support
from notifications.service import notify

MAX_RESPONSE = 5000
#: How each status reads, in the reader's language.
STATUS_LABELS = {
    OfficialStatus.UNDER_REVIEW: _l("Under review"),
    OfficialStatus.ACCEPTED: _l("Accepted"),
    # TRANSLATORS: the city's official decision on a resident's idea.
    OfficialStatus.REJECTED: _l("Not accepted"),
    OfficialStatus.IN_PROGRESS: _l("In progress"),
    OfficialStatus.IMPLEMENTED: _l("Implemented"),
}
#: Control characters other than line breaks and tabs: never part of a typed text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _checked_response(city: City, response) -> dict[str, str]:
    """The response as stored: plain text per language of the city (the markdown subset is
    rendered on output), without control characters or surrounding white space."""
    if response is None:
        response = {}
    if not isinstance(response, dict) or not all(
        isinstance(k, str) and isinstance(v, str | None) for k, v in response.items()
    ):
        raise Invalid(errors={"response": [_("Not a valid object.")]})
    texts = cleaned(
        {k: _CONTROL.sub("", (v or "").replace("\r\n", "\n")) for k, v in response.items()}
    )
    problems = translation_problems(texts, city.enabled_locales, MAX_RESPONSE)
    if problems:
        raise Invalid(errors={"response": problems})
    return texts


def missing_translations(city: City, change: IdeaStatusChange) -> list[str]:
    """The city's languages the response of ``change`` has no text in (shown to staff)."""
    return missing_locales(change.response, city.enabled_locales)


def set_official_status(
    session: Session,
    actor: User,
    idea: Idea,
    status: str,
    response: dict | None,
    now: datetime | None = None,
) -> IdeaStatusChange:
    """Answer an idea: a new step of its history; its author and supporters are told."""
    board = idea.board
    ensure(actor, "idea.answer", board)
    if status not in set(OfficialStatus):
        choices = ", ".join(OfficialStatus)
        raise Invalid(errors={"status": [_("Must be one of: %(choices)s.", choices=choices)]})
    texts = _checked_response(board.city, response)
    if idea.state != IdeaState.PUBLISHED:
        raise Conflict(_("Only published ideas can be answered."), slug="not-answerable")
    now = now or utcnow()
    change = IdeaStatusChange(
        idea_id=idea.id, status=status, response=texts, actor_id=actor.id, created_at=now
    )
    session.add(change)
    idea.official_status = status
    idea.updated_at = now
    session.flush()
    missing = missing_translations(board.city, change)
    audit.record(
        session,
        actor,
        "idea.answer",
        "idea",
        idea.id,
        city_id=idea.city_id,
        details={"status": status, "change": change.id, "missing": missing},
        now=now,
    )
    _tell(session, idea, change, now)
    return change


def _tell(session: Session, idea: Idea, change: IdeaStatusChange, now: datetime) -> None:
    """The author, then the supporters (the author among them only once)."""
    context = {
        "title": idea.title,
        "status": change.status,
        "status_label": STATUS_LABELS[OfficialStatus(change.status)],
        "response": change.response,
    }
    data = {"idea_id": idea.id, "status": change.status}
    dedupe_key = f"idea:{idea.id}:status:{change.id}"
    if idea.author_id is not None:
        notify(
            session,
            [idea.author_id],
            "idea.status_changed",
            {**context, "mine": True},
            data=data,
            dedupe_key=dedupe_key,
            now=now,
        )
    supporters = sa.select(Support.user_id).where(Support.idea_id == idea.id)
    if idea.author_id is not None:
        supporters = supporters.where(Support.user_id != idea.author_id)
    notify(
        session,
        supporters,
        "idea.status_changed",
        {**context, "mine": False},
        data=data,
        dedupe_key=dedupe_key,
        now=now,
    )


def history(session: Session, idea: Idea) -> list[IdeaStatusChange]:
    """The city's answers to the idea, oldest first."""
    return service.status_history(session, idea)
