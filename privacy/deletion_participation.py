"""A deleted account's participation: what others rely on stays, linked to nobody.

- Ideas and comments stay with no author (their ``author_id`` is set to NULL with the account)
  and read "deleted participant" in the API, the console and e-mails
  (``ideas.service.author_name``). Comments the person had deleted keep no text.
- The notifications that told idea authors of the person's comments named them: they are
  written again, in each reader's language, with "deleted participant"; so are the e-mail
  digests that carried them.
- Supports on boards still in their support phase are taken back as the person would take
  them back (count, trend and budget). Where supports are final, or the board has moved on,
  the idea's count stays (a vote cast stays cast) and the row, which only said who, goes.
- Flags: resolved ones go; unresolved ones stay for the moderators, from nobody and without
  the person's note.
- Workshop registrations: upcoming seats, waitlist places and invitations are cancelled
  through the workshops service (the waitlist moves up); any other seat is freed, so a
  workshop's count keeps matching its confirmed registrations. The rows then go with the
  account.
- Survey responses: drafts and withdrawn ones go, and so do submitted ones, unless the person
  consented to research use: then they stay, unlinkable (no person, a new client UUID, no
  fingerprint, times cut to midnight UTC of their day).
"""

import uuid
from datetime import UTC, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.errors import Problem
from app.models import City, User
from app.richtext import excerpt
from i18n import force_locale
from ideas import supports
from ideas.comments import NOTIFICATION_KIND, SUMMARY_LENGTH
from ideas.models import Board, Comment, CommentState, Flag, Idea, Phase, Support
from ideas.service import author_name
from ideas.text import render as render_text
from notifications.digest import summary
from notifications.models import Delivery, Notification, NotificationSettings
from notifications.render import render
from research.scrub import Scrubber
from surveys.models import ResponseAnswer, ResponseStatus, SurveyResponse
from workshops.models import Registration, RegistrationStatus, WorkshopStatus
from workshops.registrations import HOLDING, cancel_registration
from workshops.seats import free_seat, lock_workshop

# --- ideas ----------------------------------------------------------------------------------


def withdraw_supports(session: Session, user: User, now: datetime) -> int:
    """Take back the person's supports on boards still supporting, where supports may be
    taken back; returns how many were."""
    idea_ids = session.scalars(
        sa.select(Support.idea_id)
        .join(Board, Board.id == Support.board_id)
        .where(
            Support.user_id == user.id,
            Board.phase == Phase.SUPPORTING,
            Board.supports_withdrawable.is_(True),
        )
        .order_by(Support.idea_id)
    ).all()
    withdrawn = 0
    for idea_id in idea_ids:
        try:
            withdrawn += supports.withdraw_support(session, user, session.get(Idea, idea_id), now)
        except Problem:
            # No longer the person's to take back (a board they cannot read now): as on a
            # closed board, the count stays.
            continue
    return withdrawn


def clear_deleted_comments(session: Session, user: User) -> int:
    """Comments the person deleted show "deleted" to everyone: their text goes now."""
    return session.execute(
        sa.update(Comment)
        .where(Comment.author_id == user.id, Comment.state == CommentState.DELETED)
        .values(body="")
        .execution_options(synchronize_session=False)
    ).rowcount


def _reader(session: Session, user_id: int) -> tuple[str, str]:
    """A recipient's time zone and their city's language, as notifications are rendered."""
    own, city_zone, city_locale = session.execute(
        sa.select(NotificationSettings.timezone, City.timezone, City.default_locale)
        .select_from(User)
        .join(City, City.id == User.city_id)
        .outerjoin(NotificationSettings, NotificationSettings.user_id == User.id)
        .where(User.id == user_id)
    ).one()
    return own or city_zone, city_locale


def _comment_notice(session: Session, notice: Notification) -> None:
    comment = session.get(Comment, int(notice.dedupe_key.rsplit(":", 1)[1]))
    zone, city_locale = _reader(session, notice.user_id)
    with force_locale(notice.locale):
        commenter = author_name(None)
    content = render(
        notice.kind,
        notice.locale,
        zone,
        {
            "idea_id": comment.idea_id,
            "idea_title": comment.idea.title,
            "commenter": commenter,
            "excerpt": excerpt(render_text(comment.body), SUMMARY_LENGTH),
            "city_locale": city_locale,
        },
    )
    notice.subject, notice.body_text, notice.body_html = content.subject, content.text, content.html


def _digest(session: Session, digest: Notification) -> None:
    """A digest written again from the items it carried (as they read now)."""
    items = session.execute(
        sa.select(Notification.subject, Notification.body_text, Notification.created_at)
        .join(Delivery, Delivery.notification_id == Notification.id)
        .where(Delivery.digest_id == digest.id)
        .order_by(Notification.created_at, Notification.id)
    ).all()
    zone, city_locale = _reader(session, digest.user_id)
    content = render(
        digest.kind,
        digest.locale,
        zone,
        {
            "items": [
                {"subject": subject, "text": summary(text), "at": at} for subject, text, at in items
            ],
            "city_locale": city_locale,
        },
    )
    digest.subject, digest.body_text, digest.body_html = content.subject, content.text, content.html


def unname_in_notices(session: Session, user: User) -> int:
    """Write again the notices (and digests) that named the person as a commenter; returns
    how many notifications changed."""
    keys = sa.select(sa.literal("idea-comment:") + sa.cast(Comment.id, sa.String)).where(
        Comment.author_id == user.id
    )
    notices = session.scalars(
        sa.select(Notification).where(
            Notification.kind == NOTIFICATION_KIND,
            Notification.dedupe_key.in_(keys),
            Notification.user_id != user.id,
        )
    ).all()
    for notice in notices:
        _comment_notice(session, notice)
    session.flush()
    digests = session.scalars(
        sa.select(Notification).where(
            Notification.id.in_(
                sa.select(Delivery.digest_id).where(
                    Delivery.notification_id.in_([n.id for n in notices]),
                    Delivery.digest_id.is_not(None),
                )
            )
        )
    ).all()
    for digest in digests:
        _digest(session, digest)
    session.flush()
    return len(notices) + len(digests)


def settle_flags(session: Session, user: User) -> tuple[int, int]:
    """Resolved flags go; open ones lose the person's note (and, with the account, the
    person). Returns (deleted, kept)."""
    deleted = session.execute(
        sa.delete(Flag)
        .where(Flag.user_id == user.id, Flag.resolved_at.is_not(None))
        .execution_options(synchronize_session=False)
    ).rowcount
    kept = session.execute(
        sa.update(Flag)
        .where(Flag.user_id == user.id)
        .values(note=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    return deleted, kept


# --- workshops ------------------------------------------------------------------------------


def end_registrations(session: Session, user: User, now: datetime) -> int:
    """Cancel the person's upcoming registrations and free every seat they hold; returns how
    many were cancelled through the service."""
    registrations = session.scalars(
        sa.select(Registration)
        .where(Registration.user_id == user.id)
        .order_by(Registration.workshop_id)
    ).all()
    cancelled = 0
    for registration in registrations:
        workshop = registration.workshop
        upcoming = workshop.status == WorkshopStatus.PUBLISHED and now < workshop.starts_at
        if upcoming and registration.status in (*HOLDING, RegistrationStatus.INVITED):
            try:
                cancel_registration(session, user, workshop, now)
            except Problem:
                pass  # e.g. an archived campaign: nobody moves up, the seat is freed below
            else:
                cancelled += 1
                continue
        if registration.status == RegistrationStatus.CONFIRMED:
            lock_workshop(session, workshop)
            session.refresh(registration)
            if registration.status == RegistrationStatus.CONFIRMED:
                free_seat(session, workshop)
    session.flush()
    return cancelled


# --- surveys --------------------------------------------------------------------------------


def _day_of(moment: datetime | None) -> datetime | None:
    """Midnight UTC of the moment's day: the time of day could tell who answered."""
    if moment is None:
        return None
    return datetime.combine(moment.astimezone(UTC).date(), time(0), tzinfo=UTC)


def _unname_answers(session: Session, user: User, response_ids: list[int]) -> None:
    """Take the person's own name, nickname and any address or number out of the free text of
    responses kept for research: once the account is gone, the export's scrubber no longer
    knows the name, and the text would still say who wrote it."""
    scrub = Scrubber([user.display_name], nicknames=[user.email.partition("@")[0]])
    for answer_id, text in session.execute(
        sa.select(ResponseAnswer.id, ResponseAnswer.text).where(
            ResponseAnswer.response_id.in_(response_ids), ResponseAnswer.text.is_not(None)
        )
    ).all():
        if (cleaned := scrub(text)) != text:
            session.execute(
                sa.update(ResponseAnswer)
                .where(ResponseAnswer.id == answer_id)
                .values(text=cleaned)
                .execution_options(synchronize_session=False)
            )
    for response_id, answers in session.execute(
        sa.select(SurveyResponse.id, SurveyResponse.answers).where(
            SurveyResponse.id.in_(response_ids)
        )
    ).all():
        cleaned = _scrubbed_json(answers, scrub)
        if cleaned != answers:
            session.execute(
                sa.update(SurveyResponse)
                .where(SurveyResponse.id == response_id)
                .values(answers=cleaned)
                .execution_options(synchronize_session=False)
            )


def _scrubbed_json(value: object, scrub: Scrubber) -> object:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _scrubbed_json(item, scrub) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrubbed_json(item, scrub) for item in value]
    return value


def erase_responses(
    session: Session, user: User, for_research: bool, now: datetime
) -> tuple[dict[str, int], int]:
    """Delete the person's responses, or keep their submitted ones unlinkable when
    ``for_research``; returns (rows deleted per table, responses kept)."""
    responses = session.execute(
        sa.select(
            SurveyResponse.id,
            SurveyResponse.status,
            SurveyResponse.started_at,
            SurveyResponse.updated_at,
            SurveyResponse.submitted_at,
        ).where(
            sa.or_(SurveyResponse.user_id == user.id, SurveyResponse.single_owner_id == user.id)
        )
    ).all()
    kept = [r for r in responses if for_research and r.status == ResponseStatus.SUBMITTED]
    if kept:
        # First: changing the answers sets updated_at, which the next step cuts to the day.
        _unname_answers(session, user, [r.id for r in kept])
    for response in kept:
        session.execute(
            sa.update(SurveyResponse)
            .where(SurveyResponse.id == response.id)
            .values(
                user_id=None,
                single_owner_id=None,
                client_uuid=str(uuid.uuid4()),
                fingerprint=None,
                started_at=_day_of(response.started_at),
                updated_at=_day_of(response.updated_at),
                submitted_at=_day_of(response.submitted_at),
                kept_for_research_at=_day_of(now),
            )
            .execution_options(synchronize_session=False)
        )
    gone = [r.id for r in responses if r not in kept]
    answers = session.execute(
        sa.delete(ResponseAnswer)
        .where(ResponseAnswer.response_id.in_(gone))
        .execution_options(synchronize_session=False)
    ).rowcount
    deleted = session.execute(
        sa.delete(SurveyResponse)
        .where(SurveyResponse.id.in_(gone))
        .execution_options(synchronize_session=False)
    ).rowcount
    return (
        {ResponseAnswer.__tablename__: answers, SurveyResponse.__tablename__: deleted},
        len(kept),
    )
