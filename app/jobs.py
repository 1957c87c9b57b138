"""The shell's scheduled jobs: deliver the mail outbox, purge what has expired."""

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app.db import utcnow
from app.mail import claim_due_mails, record_outcome, send
from app.models import AccessToken, EmailCode, IdempotencyRecord, OutgoingMail

log = logging.getLogger("livinglab.jobs")

#: How long finished rows are kept before the purge removes them.
KEEP_EXPIRED_TOKENS = timedelta(days=30)
KEEP_IDEMPOTENCY = timedelta(days=1)
KEEP_SENT_MAIL = timedelta(days=30)


def deliver_mail(session: Session, now: datetime | None = None) -> int:
    """Send claimed mails one by one, committing each outcome; returns how many were sent."""
    sink = current_app.config["MAIL_SINK"]
    mails = claim_due_mails(session, now or utcnow())
    session.commit()
    sent = 0
    for mail in mails:
        try:
            send(mail, sink)
        except Exception as error:  # any sink failure is recorded and retried later
            log.warning("mail failed", extra={"mail_id": mail.id, "error": type(error).__name__})
            record_outcome(mail, utcnow(), repr(error))
        else:
            record_outcome(mail, utcnow(), None)
            sent += 1
        session.commit()
    return sent


def purge_expired(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Delete rows whose purpose has passed; returns counts per kind for the log."""
    now = now or utcnow()
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
        "outgoing_mails": sa.delete(OutgoingMail).where(
            OutgoingMail.sent_at < now - KEEP_SENT_MAIL
        ),
    }.items():
        counts[name] = session.execute(statement).rowcount
    session.commit()
    log.info("purged", extra=counts)
    return counts
