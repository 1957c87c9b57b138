"""Helpers for the tests of telling people (notices, calendars, reminders): reading back what
was told."""

import icalendar
import sqlalchemy as sa

from notifications.models import Channel, Delivery, Notification


def told(session, kind: str, user_id: int | None = None) -> list[Notification]:
    query = sa.select(Notification).where(Notification.kind == kind)
    if user_id is not None:
        query = query.where(Notification.user_id == user_id)
    return list(session.scalars(query.order_by(Notification.user_id, Notification.id)))


def deliveries(session, notification: Notification) -> dict[str, str]:
    """channel → status of a notification's deliveries (push aside)."""
    rows = session.execute(
        sa.select(Delivery.channel, Delivery.status).where(
            Delivery.notification_id == notification.id, Delivery.channel != Channel.PUSH
        )
    )
    return dict(rows.all())


def parse(text: str) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(text)


def event_of(text: str) -> icalendar.Event:
    [event] = parse(text).events
    return event
