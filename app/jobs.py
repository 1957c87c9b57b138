"""The shell's scheduled jobs: deliver the outbox, purge what has expired."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import AccessToken, EmailCode, IdempotencyRecord
from notifications.delivery import deliver_due
from notifications.models import Delivery, DeliveryStatus, Notification

log = logging.getLogger("livinglab.jobs")

#: How long finished rows are kept before the purge removes them.
KEEP_EXPIRED_TOKENS = timedelta(days=30)
KEEP_IDEMPOTENCY = timedelta(days=1)
KEEP_DELIVERIES = timedelta(days=30)
#: Notifications outside the inbox (codes, digests) hold one-time codes: kept only briefly.
KEEP_UNLISTED = timedelta(days=1)
KEEP_INBOX = timedelta(days=365)
#: A delivery run stops after this many, so other jobs get their turn.
DELIVERIES_PER_RUN = 5000


def each_alone(
    session: Session,
    ids: list[int],
    step: Callable[[Session, int, datetime], bool],
    *,
    now: datetime,
    what: str,
    subject: str,
    logger: logging.Logger,
) -> int:
    """Run ``step`` for each id in a transaction of its own; returns how many it changed.

    One failure holds up no other: it is logged with its trace and tried again next run.
    ``subject`` names the thing in log lines (``"survey"`` logs ``survey_id``).
    """
    done = 0
    for each_id in ids:
        try:
            changed = step(session, each_id, now)
            session.commit()
        except Exception:
            session.rollback()
            logger.exception(f"{subject} not {what}", extra={f"{subject}_id": each_id})
            continue
        if changed:
            done += 1
            logger.info(f"{subject} {what}", extra={f"{subject}_id": each_id, "by": "scheduler"})
    return done


def deliver_outbox(session: Session, now: datetime | None = None) -> int:
    delivered = deliver_due(session, now, limit=DELIVERIES_PER_RUN)
    if delivered:
        log.info("outbox delivered", extra={"delivered": delivered})
    return delivered


def purge_expired(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Delete rows whose purpose has passed; returns counts per kind for the log."""
    now = now or utcnow()
    finished = (DeliveryStatus.SENT, DeliveryStatus.DIGESTED, DeliveryStatus.CANCELLED)
    undelivered = sa.select(Delivery.id).where(
        Delivery.notification_id == Notification.id,
        Delivery.status.not_in(finished),
    )
    counts = {}
    for name, statement in {
        "access_tokens": sa.delete(AccessToken).where(
            sa.or_(
                AccessToken.expires_at < now - KEEP_EXPIRED_TOKENS,
                AccessToken.revoked_at < now - KEEP_EXPIRED_TOKENS,
            )
        ),
        "email_codes": sa.delete(EmailCode).where(EmailCode.expires_at < now),
        "idempotency_records": sa.delete(IdempotencyRecord).where(
            IdempotencyRecord.created_at < now - KEEP_IDEMPOTENCY
        ),
        "deliveries": sa.delete(Delivery).where(
            Delivery.status.in_(finished), Delivery.created_at < now - KEEP_DELIVERIES
        ),
        "notifications": sa.delete(Notification).where(
            sa.or_(
                sa.and_(
                    Notification.inbox_at.is_(None),
                    Notification.created_at < now - KEEP_UNLISTED,
                    ~sa.exists(undelivered),
                ),
                Notification.created_at < now - KEEP_INBOX,
            )
        ),
    }.items():
        counts[name] = session.execute(statement).rowcount
    session.commit()
    log.info("purged", extra=counts)
    return counts
