"""Refreshing a connection: fresh tokens when needed, the readings since the last fetch stored
as an import of kind "provider" (its summary says what the fetch did), failures counted.

In three steps, so that no transaction is open while a provider answers: ``plan_refresh``
reads what the fetch needs (and ends a connection whose authorisation ran out),
``fetch_readings`` talks to the provider without touching the database, and
``record_refresh`` writes the outcome. The caller (the job) commits after the first and last.

Decisions:
- The first fetch asks for daily values of the last ``FIRST_DAYS`` days and the load curve of
  the last ``CURVE_DAYS``; later ones from the day before ``fetched_until`` (the provider
  completes a day late; a day fetched again changes nothing where it is the same) to
  yesterday, the load curve always only for the last ``CURVE_DAYS`` days.
- All or nothing: a fetch that fails on any call stores no reading.
- The access token is refreshed before a fetch when it expires within ``EARLY``, and once
  after a 401. A refresh refused (invalid_grant, 401) or a 403 on the data: the connection
  expires, its tokens are erased, and the resident sees why in its status.
- Nothing is fetched without the resident's current energy consent (a newer text not yet
  agreed to included); the connection waits, saying so.
- A connection disconnected, or connected anew, while its fetch ran keeps nothing of it.
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app.consent import active_consent
from app.consent_models import Purpose
from app.models import User
from app.sealed import Broken, seal, unseal
from energy.imports import summarise
from energy.models import ConnectionStatus, ImportKind, Meter, MeterImport, ProviderConnection
from energy.providers import connector_for
from energy.providers.base import (
    AuthorisationRefused,
    Fetched,
    ProviderClient,
    ProviderError,
    TokenRejected,
    Tokens,
)
from energy.providers.connections import end_connection
from energy.store import store_intervals
from i18n import force_locale

FIRST_DAYS = 365
CURVE_DAYS = 30
REFETCH_DAYS = 1
EARLY = timedelta(minutes=1)


@dataclass(frozen=True)
class Plan:
    """What one refresh needs, read from the database (tokens unsealed, kept in memory)."""

    connection_id: int
    meter_id: int
    provider: str
    usage_point: str
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    token_expires_at: datetime | None
    #: The stored access token as it was: a changed one means the connection changed meanwhile.
    sealed_access: str = field(repr=False)
    start: date
    end: date
    curve_from: date
    locale: str


@dataclass(frozen=True)
class Outcome:
    tokens: Tokens | None = None
    fetched: Fetched | None = None
    error: str | None = None
    #: The provider refused our authorisation: the connection expires.
    expired: bool = False


def plan_refresh(session: Session, connection_id: int, now: datetime) -> Plan | None:
    """What refreshing the connection takes; None when there is nothing to do (not active,
    its provider not set up here, authorisation over, consent missing)."""
    connection = session.get(ProviderConnection, connection_id)
    if connection is None or connection.status != ConnectionStatus.ACTIVE:
        return None
    connector = connector_for(connection.provider, current_app.config)
    if connector is None or not connector.configured():
        return None
    today = connector.today(now)
    if connection.authorised_until is not None and connection.authorised_until <= today:
        end_connection(connection, ConnectionStatus.EXPIRED, "authorisation_ended", now)
        return None
    user = session.get(User, connection.user_id)
    if active_consent(session, user, Purpose.ENERGY_FEEDBACK) is None:
        connection.last_attempt_at = now
        connection.last_error = "consent_required"
        return None
    try:
        access = unseal(connection.access_token or "")
        refresh = unseal(connection.refresh_token) if connection.refresh_token else None
    except Broken:
        end_connection(connection, ConnectionStatus.EXPIRED, "tokens_unreadable", now)
        return None
    earliest = today - timedelta(days=FIRST_DAYS)
    if connection.fetched_until is None:
        start = earliest
    else:
        start = max(connection.fetched_until - timedelta(days=REFETCH_DAYS), earliest)
    return Plan(
        connection_id=connection.id,
        meter_id=connection.meter_id,
        provider=connection.provider,
        usage_point=connection.usage_point or "",
        access_token=access,
        refresh_token=refresh,
        token_expires_at=connection.token_expires_at,
        sealed_access=connection.access_token,
        start=start,
        end=today,
        curve_from=max(start, today - timedelta(days=CURVE_DAYS)),
        locale=user.locale or user.city.default_locale,
    )


def fetch_readings(
    plan: Plan,
    config: Mapping,
    now: datetime,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Talk to the provider for ``plan``: new tokens if needed, then the readings."""
    connector = connector_for(plan.provider, config)
    tokens: Tokens | None = None
    # Notes and rejections in the import's summary are in the resident's language.
    with (
        ProviderClient(config, connector.hosts(), sleep=sleep) as client,
        force_locale(plan.locale),
    ):
        try:
            access = plan.access_token
            expiring = plan.token_expires_at is None or plan.token_expires_at <= now + EARLY
            if expiring and plan.refresh_token:
                tokens = connector.refresh(client, plan.refresh_token)
                access = tokens.access_token
            args = (plan.usage_point, plan.start, plan.end, plan.curve_from)
            try:
                fetched = connector.fetch(client, access, *args)
            except TokenRejected:
                if not plan.refresh_token:
                    raise AuthorisationRefused("authorisation_refused") from None
                if tokens is not None:
                    raise  # rejected although just renewed: a failure, tried again later
                tokens = connector.refresh(client, plan.refresh_token)
                fetched = connector.fetch(client, tokens.access_token, *args)
        except AuthorisationRefused as refused:
            return Outcome(tokens=tokens, error=refused.code, expired=True)
        except ProviderError as failed:
            return Outcome(tokens=tokens, error=failed.code)
    return Outcome(tokens=tokens, fetched=fetched)


def record_refresh(session: Session, plan: Plan, outcome: Outcome, now: datetime) -> str:
    """Write the outcome: ``"stored"``, ``"failed"``, ``"expired"``, or ``"skipped"`` when
    the connection changed meanwhile (nothing kept)."""
    connection = session.scalar(
        sa.select(ProviderConnection)
        .where(ProviderConnection.id == plan.connection_id)
        .with_for_update()
    )
    if (
        connection is None
        or connection.status != ConnectionStatus.ACTIVE
        or connection.access_token != plan.sealed_access
    ):
        return "skipped"
    connection.last_attempt_at = now
    if outcome.tokens is not None:
        connection.access_token = seal(outcome.tokens.access_token)
        if outcome.tokens.refresh_token:
            connection.refresh_token = seal(outcome.tokens.refresh_token)
        connection.token_expires_at = now + timedelta(seconds=outcome.tokens.expires_in)
    if outcome.expired:
        end_connection(connection, ConnectionStatus.EXPIRED, outcome.error, now)
        return "expired"
    if outcome.error is not None or outcome.fetched is None:
        connection.failures += 1
        connection.last_error = outcome.error or "provider_unavailable"
        return "failed"
    fetched = outcome.fetched
    meter = session.get(Meter, plan.meter_id)
    row = MeterImport(
        meter_id=meter.id,
        user_id=connection.user_id,
        city_id=meter.city_id,
        kind=ImportKind.PROVIDER.value,
        filename=connector_for(plan.provider, current_app.config).title,
        content_sha256=fetched.digest,
        summary={},
        created_at=now,
    )
    session.add(row)
    session.flush()
    counts = store_intervals(session, meter, fetched.result.intervals, row)
    row.summary = summarise(fetched.result, counts, None) | {
        "provider": plan.provider,
        **fetched.detail,
    }
    if fetched.covered_until is not None:
        connection.fetched_until = max(
            connection.fetched_until or fetched.covered_until, fetched.covered_until
        )
    connection.failures = 0
    connection.last_error = None
    session.flush()
    return "stored"
