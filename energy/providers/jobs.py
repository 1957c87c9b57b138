"""The scheduler's job for provider connections: each active one refreshed once a day.

Runs hourly (``energy.providers`` in app/scheduler.py) and refreshes the connections due:
- a connection never fetched at once: its history arrives within the hour of connecting;
- otherwise once per local day of its provider, from ``REFRESH_HOUR`` (Enedis publishes
  yesterday's readings in the morning);
- after a failure, once ``2^(failures-1)`` hours have passed since the last attempt, at most
  ``MAX_BACKOFF``: a provider down for a day is asked five times that day, then less and less;
- a connection whose authorisation ran out is ended (expired) on the next run.

One connection at a time, each in its own transactions (``app.jobs.each_alone``): one that
fails holds up no other. No transaction is open while a provider answers. Running twice at
once is harmless: a connection's outcome is recorded under its row's lock, and a refresh that
finds it changed keeps nothing. The log says how many; never a token, a URL or a value.
"""

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app.db import utcnow
from app.jobs import each_alone
from energy.models import ConnectionStatus, ProviderConnection
from energy.providers import connector_for
from energy.providers.refresh import fetch_readings, plan_refresh, record_refresh

log = logging.getLogger("livinglab.energy")

REFRESH_HOUR = 8
MAX_BACKOFF = timedelta(days=32)


def backoff(failures: int) -> timedelta:
    """How long after its last attempt a failing connection is tried again."""
    return min(timedelta(hours=2 ** min(failures - 1, 16)), MAX_BACKOFF)


def is_due(connection: ProviderConnection, now: datetime) -> bool:
    """Whether the job refreshes (or ends) the connection at ``now``."""
    connector = connector_for(connection.provider, current_app.config)
    if connector is None:
        return False
    today = connector.today(now)
    if connection.authorised_until is not None and connection.authorised_until <= today:
        return True
    last = connection.last_attempt_at
    if last is None:
        return True
    if connection.failures:
        return now - last >= backoff(connection.failures)
    return connector.today(last) < today and now.astimezone(connector.zone).hour >= REFRESH_HOUR


def refresh_connections(
    session: Session,
    now: datetime | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, int]:
    """Refresh every active connection that is due; counts by outcome."""
    now = now or utcnow()
    active = session.scalars(
        sa.select(ProviderConnection)
        .where(ProviderConnection.status == ConnectionStatus.ACTIVE.value)
        .order_by(ProviderConnection.id)
    ).all()
    due = [connection.id for connection in active if is_due(connection, now)]
    session.commit()
    counts = {"due": len(due), "stored": 0, "failed": 0, "expired": 0, "skipped": 0}
    config = current_app.config

    def step(session: Session, connection_id: int, now: datetime) -> bool:
        plan = plan_refresh(session, connection_id, now)
        # Whatever planning changed (an authorisation ended) is kept; the fetch runs outside
        # any transaction.
        session.commit()
        if plan is None:
            return False
        outcome = fetch_readings(plan, config, now, sleep=sleep)
        result = record_refresh(session, plan, outcome, now)
        counts[result] += 1
        return result == "stored"

    each = partial(each_alone, session, now=now, subject="provider_connection", logger=log)
    each(due, step, what="refreshed")
    log.info("provider connections refreshed", extra=counts)
    return counts
