"""The outbox worker: claim due deliveries, send them through their channel, record how it went.

Claims are short transactions: on PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets several workers
take disjoint batches; on SQLite the claim runs under ``BEGIN IMMEDIATE``, so claims queue.
A claim carries a token and lapses after CLAIM_FOR: a killed worker's rows are taken again,
and a late worker cannot overwrite the outcome of the worker that took its rows over.
Each email or push outcome is committed as soon as it is known, so a crash re-sends at most
the messages in flight (one email, or up to PUSH_PARALLEL push messages).
"""

import logging
import queue
import random
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, joinedload, scoped_session

from app.db import utcnow
from notifications.channels import Gone, Permanent, Sender, Skipped, Temporary
from notifications.models import Channel, Delivery, DeliveryStatus, Notification, PushDevice

log = logging.getLogger("livinglab.notifications")

CLAIM_FOR = timedelta(minutes=5)
CLAIM_MARGIN = timedelta(seconds=30)
#: Push messages in flight at once: each waits tens of milliseconds for its provider.
PUSH_PARALLEL = 8
#: Tries before a delivery becomes a dead letter.
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """Exponential backoff with full jitter, never sooner than the provider asked."""
    ceiling = min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)
    delay = ceiling * random.uniform(0.5, 1.0)  # noqa: S311  (spreading retries, not secrets)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=min(retry_after, BACKOFF_CAP.total_seconds())))
    return delay


def claim(session: Session, now: datetime, batch: int, token: str) -> list[tuple[int, str]]:
    """Take up to ``batch`` due deliveries for this worker and commit the claim.

    Returns (id, channel) pairs, in the order they fell due.
    """
    query = (
        sa.select(Delivery.id, Delivery.channel)
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.due_at <= now,
            sa.or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
        )
        .order_by(Delivery.due_at, Delivery.id)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = [(row.id, row.channel) for row in session.execute(query)]
    if claimed:
        session.execute(
            sa.update(Delivery)
            .where(Delivery.id.in_([delivery_id for delivery_id, _channel in claimed]))
            .values(claim_token=token, claimed_until=now + CLAIM_FOR)
            .execution_options(synchronize_session=False)
        )
    session.commit()
    return claimed


def _record(session: Session, delivery: Delivery, token: str, **values) -> bool:
    """Write an outcome if this worker still holds the claim; commit. False when it lost it."""
    done = session.execute(
        sa.update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.claim_token == token)
        .values(claim_token=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return bool(done)


def _release(session: Session, ids: list[int], token: str) -> None:
    """Hand unsent claimed rows back at once, untried."""
    session.execute(
        sa.update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.claim_token == token)
        .values(claim_token=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def _deliver_inbox(session: Session, ids: list[int], token: str, now: datetime) -> int:
    """The in-app channel only makes the notifications visible: one transaction for all."""
    held = list(
        session.scalars(
            sa.update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.claim_token == token)
            .values(
                status=DeliveryStatus.SENT,
                sent_at=now,
                attempts=Delivery.attempts + 1,
                claim_token=None,
                claimed_until=None,
            )
            .returning(Delivery.notification_id)
            .execution_options(synchronize_session=False)
        )
    )
    if held:
        session.execute(
            sa.update(Notification)
            .where(Notification.id.in_(held), Notification.inbox_at.is_(None))
            .values(inbox_at=now)
            .execution_options(synchronize_session=False)
        )
    session.commit()
    return len(held)


def _attempt(sender: Sender, delivery: Delivery) -> Exception | None:
    """Send one delivery; the error it ended with, or None when the provider took it."""
    try:
        sender.send(delivery)
    except Exception as error:
        return error
    return None


def _settle(
    session: Session,
    delivery: Delivery,
    token: str,
    error: Exception | None,
    now: datetime | None,
) -> bool:
    """Record how a send went, and commit; True when it went through."""
    attempts = delivery.attempts + 1
    if isinstance(error, Skipped):
        _record(session, delivery, token, status=DeliveryStatus.CANCELLED, last_error=str(error))
        return False
    if isinstance(error, Gone):
        log.info("push device gone", extra={"device_id": delivery.device_id})
        if delivery.device_id is not None:
            session.execute(
                sa.delete(PushDevice)
                .where(PushDevice.id == delivery.device_id)
                .execution_options(synchronize_session=False)
            )
        _record(session, delivery, token, status=DeliveryStatus.CANCELLED, last_error=str(error))
        return False
    if error is not None:
        retry_after = error.retry_after if isinstance(error, Temporary) else None
        message = str(error) if isinstance(error, Permanent | Temporary) else repr(error)
        dead = isinstance(error, Permanent) or attempts >= MAX_ATTEMPTS
        log.warning(
            "delivery failed",
            extra={
                "delivery_id": delivery.id,
                "channel": delivery.channel,
                "attempts": attempts,
                "dead": dead,
                "error": message[:200],
            },
        )
        values = {"attempts": attempts, "last_error": message[:500]}
        if dead:
            values["status"] = DeliveryStatus.DEAD
        else:
            values["due_at"] = (now or utcnow()) + backoff(attempts, retry_after)
        _record(session, delivery, token, **values)
        return False
    sent = utcnow()
    if delivery.device_id is not None:
        session.execute(
            sa.update(PushDevice)
            .where(PushDevice.id == delivery.device_id)
            .values(last_success_at=sent)
            .execution_options(synchronize_session=False)
        )
    return _record(
        session, delivery, token, status=DeliveryStatus.SENT, sent_at=sent, attempts=attempts
    )


def _openers() -> dict[str, Callable]:
    from notifications.channels import email, push  # channels pull in their providers' libraries

    return {Channel.EMAIL: email.open, Channel.PUSH: push.open}


def deliver_due(
    session: Session, now: datetime | None = None, batch: int = 200, limit: int | None = None
) -> int:
    """Deliver what is due, batch after batch, until nothing is left (or ``limit`` is reached).

    Returns how many deliveries went through.
    """
    token = secrets.token_hex(16)
    delivered = 0
    handled = 0
    # Outcomes are committed one by one: loaded rows must not be reloaded after each commit.
    plain = session() if isinstance(session, scoped_session) else session
    expire_on_commit, plain.expire_on_commit = plain.expire_on_commit, False
    try:
        with ExitStack() as senders:
            opened: dict[str, Sender] = {}
            while limit is None or handled < limit:
                claimed = claim(session, now or utcnow(), batch, token)
                if not claimed:
                    break
                handled += len(claimed)
                inbox = [i for i, channel in claimed if channel == Channel.INBOX]
                if inbox:
                    delivered += _deliver_inbox(session, inbox, token, now or utcnow())
                others = [i for i, channel in claimed if channel != Channel.INBOX]
                if others:
                    delivered += _deliver_others(session, others, token, now, senders, opened)
                session.expunge_all()  # a long run must not grow the identity map
    finally:
        plain.expire_on_commit = expire_on_commit
    return delivered


def _deliver_others(
    session: Session,
    ids: list[int],
    token: str,
    now: datetime | None,
    senders: ExitStack,
    opened: dict[str, Sender],
) -> int:
    """Email and push, each outcome committed as soon as it is known.

    Push messages go PUSH_PARALLEL at a time, each thread with a sender of its own; the
    outcomes are recorded here, on this thread's session. Email goes one by one over the
    run's single SMTP connection (its sender reads the session).
    """
    app = current_app._get_current_object()
    deliveries = session.scalars(
        sa.select(Delivery)
        .where(Delivery.id.in_(ids))
        .options(
            joinedload(Delivery.notification).joinedload(Notification.user),
            joinedload(Delivery.device),
        )
        .order_by(Delivery.due_at, Delivery.id)
    ).all()
    session.commit()  # end the read; each outcome is a short write of its own
    # Stop short of the claim's end: past it, another worker may take the rows.
    deadline = utcnow() + CLAIM_FOR - CLAIM_MARGIN
    late: list[int] = []

    def sender_for(channel: str, slot: int = 0) -> Sender:
        key = f"{channel}:{slot}"
        if key not in opened:
            opened[key] = senders.enter_context(_openers()[channel](app))
        return opened[key]

    def in_time(delivery: Delivery) -> bool:
        if utcnow() > deadline:
            late.append(delivery.id)
            return False
        return True

    delivered = 0
    pushes = [d for d in deliveries if d.channel == Channel.PUSH]
    if pushes:
        free: queue.SimpleQueue[Sender] = queue.SimpleQueue()
        for slot in range(min(PUSH_PARALLEL, len(pushes))):
            free.put(sender_for(Channel.PUSH, slot))

        def push(delivery: Delivery) -> Exception | bool | None:
            if not in_time(delivery):
                return False
            sender = free.get()
            try:
                return _attempt(sender, delivery)
            finally:
                free.put(sender)

        with ThreadPoolExecutor(max_workers=PUSH_PARALLEL) as pool:
            futures = {pool.submit(push, delivery): delivery for delivery in pushes}
            for future in as_completed(futures):
                if (outcome := future.result()) is not False:
                    delivered += _settle(session, futures[future], token, outcome, now)
    for delivery in deliveries:
        if delivery.channel != Channel.PUSH and in_time(delivery):
            sender = sender_for(delivery.channel)
            delivered += _settle(session, delivery, token, _attempt(sender, delivery), now)
    if late:
        _release(session, late, token)
    return delivered


def retry_dead(session: Session, delivery_ids: list[int] | sa.Select) -> int:
    """Give dead letters another round of tries, due now; returns how many."""
    return session.execute(
        sa.update(Delivery)
        .where(Delivery.id.in_(delivery_ids), Delivery.status == DeliveryStatus.DEAD)
        .values(
            status=DeliveryStatus.PENDING,
            attempts=0,
            due_at=utcnow(),
            claim_token=None,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
