"""The mail outbox: mails are rows written with the change that causes them, sent by a job."""

import logging
import sys
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import OutgoingMail, User
from i18n import _, force_locale

log = logging.getLogger("livinglab.mail")

CLAIM_FOR = timedelta(minutes=5)
MAX_ATTEMPTS = 5


def _compose(kind: str, **context) -> tuple[str, str]:
    """Subject and text of a mail kind, in the locale currently forced."""
    if kind == "verify_email":
        return (
            _("Your Living Lab confirmation code"),
            _(
                "Hello,\n\nyour code to confirm this email address is %(code)s.\n"
                "It is valid for %(minutes)d minutes.\n\n"
                "If you did not create an account, you can ignore this mail.",
                **context,
            ),
        )
    if kind == "reset_password":
        return (
            _("Your Living Lab password reset code"),
            _(
                "Hello,\n\nyour code to choose a new password is %(code)s.\n"
                "It is valid for %(minutes)d minutes.\n\n"
                "If you did not ask for this, you can ignore this mail; "
                "your password stays as it is.",
                **context,
            ),
        )
    if kind == "account_exists":
        return (
            _("Someone tried to sign up with your email address"),
            _(
                "Hello,\n\nsomeone tried to create a Living Lab account with this email "
                "address, but you already have one. If it was you, sign in, or reset your "
                "password if you forgot it.\n\nIf it was not you, you can ignore this mail."
            ),
        )
    raise ValueError(f"unknown mail kind {kind!r}")


def queue_mail(session: Session, user: User, kind: str, **context) -> OutgoingMail:
    """Write a mail to the outbox in the person's language; it is sent after commit."""
    locale = user.locale or user.city.default_locale
    with force_locale(locale):
        subject, body = _compose(kind, **context)
    mail = OutgoingMail(to_address=user.email, subject=subject, body=body)
    session.add(mail)
    session.flush()
    return mail


def claim_due_mails(session: Session, now: datetime, batch: int = 50) -> list[OutgoingMail]:
    """Claim unsent mails for this worker; a claim lapses so a crashed worker loses none."""
    query = (
        sa.select(OutgoingMail)
        .where(
            OutgoingMail.sent_at.is_(None),
            OutgoingMail.attempts < MAX_ATTEMPTS,
            sa.or_(OutgoingMail.claimed_until.is_(None), OutgoingMail.claimed_until < now),
        )
        .order_by(OutgoingMail.id)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    mails = list(session.scalars(query))
    for mail in mails:
        mail.claimed_until = now + CLAIM_FOR
    session.flush()
    return mails


def send(mail: OutgoingMail, sink: str) -> None:
    """Hand one mail to the configured sink."""
    if sink == "console":
        sys.stdout.write(
            f"\n--- mail to {mail.to_address}\nSubject: {mail.subject}\n\n{mail.body}\n---\n"
        )
        sys.stdout.flush()
    elif sink != "log":
        raise ValueError(f"unknown MAIL_SINK {sink!r}")
    # Never the body: it carries one-time codes.
    log.info("mail sent", extra={"mail_id": mail.id, "subject": mail.subject})


def record_outcome(mail: OutgoingMail, now: datetime, error: str | None) -> None:
    mail.attempts += 1
    mail.claimed_until = None
    if error is None:
        mail.sent_at = now
    else:
        mail.last_error = error[:2000]
