"""A person's in-app inbox: the notifications the in-app channel delivered to them.

Only notifications with ``inbox_at`` set are in it: one recorded but not yet delivered, or
told by email or push only, is not. Someone else's notification reads as nonexistent.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import NotFound
from app.models import User
from notifications.models import Notification


def _delivered_to(user: User):
    return (Notification.user_id == user.id, Notification.inbox_at.is_not(None))


def inbox(user: User, *, unread_only: bool = False) -> sa.Select:
    """The person's delivered notifications, for the caller to page newest first by
    (``inbox_at``, ``id``)."""
    query = sa.select(Notification).where(*_delivered_to(user))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query


def unread_count(session: Session, user: User) -> int:
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(*_delivered_to(user), Notification.read_at.is_(None))
    )


def mark_read(
    session: Session, user: User, notification_id: int, now: datetime | None = None
) -> Notification:
    """Mark one of the person's notifications read; reading it again keeps the first time."""
    # One conditional UPDATE, so two devices reading at once cannot move read_at.
    session.execute(
        sa.update(Notification)
        .where(
            Notification.id == notification_id,
            *_delivered_to(user),
            Notification.read_at.is_(None),
        )
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    notification = session.scalar(
        sa.select(Notification)
        .where(Notification.id == notification_id, *_delivered_to(user))
        .execution_options(populate_existing=True)
    )
    if notification is None:
        raise NotFound()
    return notification


def mark_all_read(session: Session, user: User, now: datetime | None = None) -> int:
    """Mark everything delivered up to now read; returns how many were unread."""
    now = now or utcnow()
    return session.execute(
        sa.update(Notification)
        .where(
            *_delivered_to(user),
            Notification.inbox_at <= now,
            Notification.read_at.is_(None),
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
