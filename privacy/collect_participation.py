"""What is held about a person's participation: ideas, comments, supports, flags, mutes,
workshop registrations with their answers, and whether a calendar feed exists."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import User
from i18n.content import pick
from ideas.models import Comment, Flag, Idea, Mute, Support
from workshops.models import CalendarFeed, Registration


def _title(value: dict | None, locale: str) -> str:
    return pick(value, locale)[0]


def ideas_section(session: Session, user: User) -> dict:
    ideas = session.scalars(
        sa.select(Idea).where(Idea.author_id == user.id).order_by(Idea.created_at)
    )
    comments = session.scalars(
        sa.select(Comment).where(Comment.author_id == user.id).order_by(Comment.created_at)
    )
    supports = session.scalars(
        sa.select(Support).where(Support.user_id == user.id).order_by(Support.created_at)
    )
    flags = session.scalars(
        sa.select(Flag).where(Flag.user_id == user.id).order_by(Flag.created_at)
    )
    mutes = session.scalars(sa.select(Mute).where(Mute.user_id == user.id))
    return {
        "ideas": [
            {
                "id": i.id,
                "board_id": i.board_id,
                "title": i.title,
                "body": i.body,
                "language": i.language,
                "category": i.category,
                "latitude": i.latitude,
                "longitude": i.longitude,
                "state": i.state,
                "moderation_reason": i.moderation_reason,
                "official_status": i.official_status,
                "created_at": i.created_at,
                "edited_at": i.edited_at,
                "withdrawn_at": i.withdrawn_at,
            }
            for i in ideas
        ],
        "comments": [
            {
                "id": c.id,
                "idea_id": c.idea_id,
                "reply_to_comment_id": c.parent_id,
                "body": c.body,
                "language": c.language,
                "state": c.state,
                "moderation_reason": c.moderation_reason,
                "created_at": c.created_at,
                "edited_at": c.edited_at,
                "deleted_at": c.deleted_at,
            }
            for c in comments
        ],
        "supports": [{"idea_id": s.idea_id, "created_at": s.created_at} for s in supports],
        "flags": [
            {
                "idea_id": f.idea_id,
                "comment_id": f.comment_id,
                "reason": f.reason,
                "note": f.note,
                "created_at": f.created_at,
                "resolved_at": f.resolved_at,
            }
            for f in flags
        ],
        # Who muted them is staff's business; the reason was shown to them.
        "mutes": [
            {"city": m.city_id, "reason": m.reason, "created_at": m.created_at, "until": m.until}
            for m in mutes
        ],
    }


def workshops_section(session: Session, user: User, locale: str) -> dict:
    rows = session.scalars(
        sa.select(Registration)
        .where(Registration.user_id == user.id)
        .order_by(Registration.registered_at)
    )
    feed = session.scalar(sa.select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    registrations = []
    for r in rows:
        labels = {q["code"]: _title(q.get("label"), locale) for q in r.workshop.questions}
        registrations.append(
            {
                "workshop_id": r.workshop_id,
                "workshop": _title(r.workshop.title, locale),
                "starts_at": r.workshop.starts_at,
                "status": r.status,
                "registered_at": r.registered_at,
                "confirmed_at": r.confirmed_at,
                "invited_at": r.invited_at,
                "cancelled_at": r.cancelled_at,
                "removed_reason": r.removed_reason,
                "checked_in_at": r.checked_in_at,
                "answers": [
                    {"question": code, "label": labels.get(code, code), "answer": value}
                    for code, value in (r.answers or {}).items()
                ],
            }
        )
    return {
        "registrations": registrations,
        # Whether a private calendar feed exists; never its token.
        "calendar_feed": None
        if feed is None
        else {"created_at": feed.created_at, "last_read_at": feed.last_read_at},
    }
