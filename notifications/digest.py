"""Email digests: the low-priority items a person chose to get daily or weekly, in one email.

``notify`` parks such items as email deliveries in status "digest", due at the person's next
digest time (08:00 local time; on Mondays for weekly digests). ``send_digests`` (a scheduler
job) gathers each person's due items into one "digest" notification, whose own email the
outbox worker then sends. Each person is handled in a transaction of its own, and items are
taken with a conditional update, so two runs at once never put an item in two digests.
"""

import logging
from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager

from app.db import utcnow
from app.models import User
from notifications import kinds
from notifications.channels.email import refusal
from notifications.models import Channel, Delivery, DeliveryStatus, EmailMode, Notification
from notifications.service import choices, notify

log = logging.getLogger("livinglab.notifications")

#: How much of each item's text the digest shows.
SUMMARY_CHARS = 200
#: First key of the PostgreSQL advisory lock held while one person's digest is made.
DIGEST_LOCK = 74110


def summary(text: str, limit: int = SUMMARY_CHARS) -> str:
    """The start of a text on one line, cut at a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] or flat[:limit]
    return cut.rstrip(" ,;:.") + "…"


def _waiting(now: datetime, user_id: int | None = None) -> sa.Select:
    query = (
        sa.select(Delivery)
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(
            Delivery.channel == Channel.EMAIL,
            Delivery.status == DeliveryStatus.DIGEST,
            Delivery.due_at <= now,
        )
    )
    return query if user_id is None else query.where(Notification.user_id == user_id)


def _settle(session: Session, ids: list[int], **values) -> int:
    """Move waiting deliveries on; returns how many were still waiting (not taken by a rival)."""
    return session.execute(
        sa.update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.DIGEST)
        .values(claim_token=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    ).rowcount


def _unwanted(session: Session, user_id: int, waiting: list[Delivery]) -> set[int]:
    """Items whose kind the person has since switched email off for."""
    by_kind: dict[str, list[Delivery]] = defaultdict(list)
    for item in waiting:
        by_kind[item.notification.kind].append(item)
    unwanted = set()
    for name, items in by_kind.items():
        spec = kinds.KINDS.get(name)
        if spec is not None and choices(session, [user_id], spec)[user_id].email == EmailMode.OFF:
            unwanted.update(item.id for item in items)
    return unwanted


def _lock_person(session: Session, user_id: int) -> bool:
    """Make this run the only one gathering the person's items until it commits.

    Row locks alone would let two runs split one person's items into two digests. On SQLite
    the scheduler's writers already queue (BEGIN IMMEDIATE), so there is nothing to take.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(
        session.scalar(
            sa.select(
                sa.func.pg_try_advisory_xact_lock(
                    sa.cast(DIGEST_LOCK, sa.Integer), sa.cast(user_id, sa.Integer)
                )
            )
        )
    )


def gather(session: Session, user_id: int, now: datetime) -> bool:
    """Record one digest of the person's due items; True when one was recorded.

    Flushes only; the caller commits (or rolls back when a rival run took the items first).
    """
    if not _lock_person(session, user_id):
        return False  # another run is making this person's digest right now
    query = (
        _waiting(now, user_id)
        .options(contains_eager(Delivery.notification))
        .order_by(Notification.created_at, Notification.id)
    )
    waiting = list(session.scalars(query))
    if not waiting:
        return False
    user = session.get(User, user_id)
    reason = refusal(session, user, kinds.DIGEST)
    unwanted = set() if reason else _unwanted(session, user_id, waiting)
    cancelled = [d.id for d in waiting if reason or d.id in unwanted]
    if cancelled:
        _settle(
            session,
            cancelled,
            status=DeliveryStatus.CANCELLED,
            last_error=reason or "email off for this kind",
        )
    items = [d for d in waiting if d.id not in cancelled]
    if not items:
        return False
    ids = [d.id for d in items]
    if _settle(session, ids, status=DeliveryStatus.DIGESTED, sent_at=now) != len(ids):
        raise _Taken()
    key = f"digest:{min(ids)}"  # each item is digested once, so its id names the digest
    context = {
        "items": [
            {
                "subject": d.notification.subject,
                "text": summary(d.notification.body_text),
                "at": d.notification.created_at,
            }
            for d in items
        ]
    }
    notify(session, [user], kinds.DIGEST.name, context, dedupe_key=key, now=now)
    digest_id = session.scalar(
        sa.select(Notification.id).where(
            Notification.user_id == user_id, Notification.dedupe_key == key
        )
    )
    session.execute(
        sa.update(Delivery)
        .where(Delivery.id.in_(ids))
        .values(digest_id=digest_id)
        .execution_options(synchronize_session=False)
    )
    return True


class _Taken(Exception):
    """Another run gathered some of these items meanwhile: it sends them, we send nothing."""


def send_digests(session: Session, now: datetime | None = None) -> int:
    """Scheduler job: one digest for each person with due items; returns how many were made."""
    now = now or utcnow()
    people = list(
        session.scalars(
            _waiting(now)
            .with_only_columns(Notification.user_id)
            .distinct()
            .order_by(Notification.user_id)
        )
    )
    session.commit()
    made = 0
    for user_id in people:
        try:
            made += gather(session, user_id, now)
            session.commit()
        except _Taken:
            session.rollback()
        except Exception:
            # One person's failure must not hold back everyone else's digest; their items
            # stay waiting and are tried again on the next run.
            session.rollback()
            log.exception("digest failed", extra={"user_id": user_id})
    if made:
        log.info("digests recorded", extra={"digests": made})
    return made
