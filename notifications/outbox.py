"""A city's outbox for its staff: how deliveries stand, and the dead letters to send again.

A delivery belongs to the city its recipient lived in when it was recorded
(``Notification.city_id``). Recipients are shown by a masked address: staff see that a
message failed, not to whom exactly.
"""

import re
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import City, User
from app.policy import ensure
from notifications import kinds
from notifications.delivery import retry_dead
from notifications.models import Delivery, DeliveryStatus, Notification

#: Dead letters listed, newest first; the counts say how many there are in all.
LIST_LIMIT = 200
SENT_WINDOW = timedelta(hours=24)

_ADDRESS = re.compile(r"[^\s@<>()\[\]\"',;:]+@([^\s@<>()\[\]\"',;:]+)")
_OF_NOTIFICATION = Delivery.notification_id == Notification.id


def masked(email: str) -> str:
    """An address with its mailbox hidden: the domain stays, as it tells which provider failed."""
    local, _sep, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


def _masked_addresses(text: str | None) -> str:
    # Providers quote the refused address in their errors.
    return _ADDRESS.sub(lambda m: masked(m.group(0)), text or "")


def _in_city(city: City):
    return (
        sa.select(Delivery.id)
        .join(Notification, _OF_NOTIFICATION)
        .where(Notification.city_id == city.id)
    )


def delivery_counts(session: Session, actor: User, city: City, now: datetime) -> dict[str, int]:
    """Deliveries waiting, waiting for a digest, dead, and sent in the last 24 hours."""
    ensure(actor, "notifications.manage", city)
    waiting = (DeliveryStatus.PENDING, DeliveryStatus.DIGEST, DeliveryStatus.DEAD)
    counts = dict.fromkeys([*waiting, "sent"], 0)
    counts.update(
        session.execute(
            sa.select(Delivery.status, sa.func.count())
            .join(Notification, _OF_NOTIFICATION)
            .where(Notification.city_id == city.id, Delivery.status.in_(waiting))
            .group_by(Delivery.status)
        ).all()
    )
    counts["sent"] = session.scalar(
        sa.select(sa.func.count())
        .select_from(Delivery)
        .join(Notification, _OF_NOTIFICATION)
        .where(
            Notification.city_id == city.id,
            Delivery.status.in_((DeliveryStatus.SENT, DeliveryStatus.DIGESTED)),
            Delivery.sent_at >= now - SENT_WINDOW,
        )
    )
    return counts


def dead_letters(session: Session, actor: User, city: City) -> list[dict]:
    """The newest dead letters of the city, with what staff need to judge them."""
    ensure(actor, "notifications.manage", city)
    rows = session.execute(
        sa.select(Delivery, Notification.kind, Notification.created_at, User.email)
        .join(Notification, _OF_NOTIFICATION)
        .join(User, User.id == Notification.user_id)
        .where(Notification.city_id == city.id, Delivery.status == DeliveryStatus.DEAD)
        .order_by(Delivery.due_at.desc(), Delivery.id.desc())
        .limit(LIST_LIMIT)
    )
    letters = []
    for delivery, kind, recorded_at, email in rows:
        spec = kinds.KINDS.get(kind)
        letters.append(
            {
                "id": delivery.id,
                "recipient": masked(email),
                "kind": kind,
                "kind_label": spec.label if spec else kind,
                "channel": delivery.channel,
                "attempts": delivery.attempts,
                "last_error": _masked_addresses(delivery.last_error),
                "recorded_at": recorded_at,
                "last_try_at": delivery.due_at,
            }
        )
    return letters


def retry(session: Session, actor: User, city: City, delivery_id: int | None = None) -> int:
    """Send one of the city's dead letters again, or all of them; returns how many."""
    ensure(actor, "notifications.manage", city)
    dead = _in_city(city).where(Delivery.status == DeliveryStatus.DEAD)
    if delivery_id is None:
        return retry_dead(session, dead)
    if session.scalar(_in_city(city).where(Delivery.id == delivery_id)) is None:
        raise NotFound()
    return retry_dead(session, [delivery_id])
