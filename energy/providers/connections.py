"""Connecting a meter to its data provider: the resident's authorisation, the callback that
completes it, and disconnecting.

Decisions:
- One connection per meter. Asking again while one is pending makes a new state (the older
  link stops working), so a phone that retries always gets a working link; an active
  connection is not replaced (409: disconnect first). An expired or revoked one starts over.
- The state is 256 random bits, kept only as its SHA-256, usable once, for ``STATE_TTL``.
- The callback's code exchange is an outbound call, made outside any transaction (on SQLite
  no write lock is held while the provider answers): the caller commits ``claim_state``,
  calls ``exchange_code``, then commits ``activate``.
- The first fetch runs in the scheduler's job (``energy.providers``, hourly: within the hour
  of connecting), not in the callback: the resident's browser waits for no download.
- Disconnecting erases the tokens and keeps the readings; deleting readings is what
  withdrawing the energy consent does (``energy.meters.withdraw_energy_consent``, which ends
  connections too).
"""

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app.consent import require_consent
from app.consent_models import Purpose
from app.db import insert_once, utcnow
from app.errors import Conflict, Invalid, NotFound, Problem
from app.models import User
from app.policy import ensure
from app.sealed import seal
from energy.meters import COMMODITY_NAMES
from energy.models import Commodity, ConnectionStatus, Meter, ProviderConnection
from energy.providers import connector_for
from energy.providers.base import Connector, ProviderClient, Tokens
from i18n import _

log = logging.getLogger("livinglab.energy")

STATE_TTL = timedelta(minutes=30)
#: Where the provider sends the resident back (the API's callback route), after PUBLIC_URL.
CALLBACK_PATH = "/api/v1/energy/providers/{provider}/callback"
#: A browser waits for the callback: no long waits between attempts there.
CALLBACK_MAX_WAIT = 2.0
MAX_STATE_LENGTH = 200


class BadState(Problem):
    """A callback whose state is unknown, expired or used: the resident starts again."""

    status = 400

    def __init__(self):
        super().__init__(
            _("This link has expired or was already used. Start connecting your meter again.")
        )


@dataclass(frozen=True)
class Authorisation:
    connection: ProviderConnection
    #: Where the resident's browser goes to authorise us.
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class Claim:
    """A callback's state, used up: which connection it is for, and for whom."""

    connection_id: int
    provider: str
    user_id: int
    #: The resident refused (or the provider failed) on the consent page.
    denied: bool


def callback_url(provider: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + CALLBACK_PATH.format(provider=provider)


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def available(name: str) -> Connector:
    """The provider's connector when this deployment is set up for it; Invalid otherwise."""
    connector = connector_for(name, current_app.config)
    if connector is None or not connector.configured():
        raise Invalid(errors={"provider": [_("This provider is not available.")]})
    return connector


def connection_of(session: Session, meter: Meter) -> ProviderConnection | None:
    """The meter's connection (the meter is known to be the caller's)."""
    return session.scalar(
        sa.select(ProviderConnection).where(ProviderConnection.meter_id == meter.id)
    )


def start_authorisation(
    session: Session, user: User, meter: Meter, provider: str, now: datetime | None = None
) -> Authorisation:
    """A fresh link to the provider's consent page for one of the person's meters."""
    ensure(user, "energy.use", user.city)
    if meter.user_id != user.id:
        raise NotFound()
    require_consent(session, user, Purpose.ENERGY_FEEDBACK)
    now = now or utcnow()
    connector = available(provider)
    if meter.commodity != connector.commodity or meter.unit != connector.unit:
        message = _(
            "%(provider)s provides %(commodity)s readings in %(unit)s; this meter measures "
            "%(meter)s in %(meter_unit)s.",
            provider=connector.title,
            commodity=COMMODITY_NAMES[Commodity(connector.commodity)],
            unit=connector.unit,
            meter=COMMODITY_NAMES[Commodity(meter.commodity)],
            meter_unit=meter.unit,
        )
        raise Invalid(errors={"provider": [message]})
    state = secrets.token_urlsafe(32)
    connection = connection_of(session, meter)
    if connection is None:
        fresh = ProviderConnection(
            meter_id=meter.id,
            user_id=user.id,
            city_id=meter.city_id,
            provider=connector.name,
            status=ConnectionStatus.PENDING.value,
            created_at=now,
        )
        # A parallel request made it first: its row is the one to use.
        connection, _created = insert_once(session, fresh, lambda: connection_of(session, meter))
    if connection.status == ConnectionStatus.ACTIVE:
        current = connector_for(connection.provider, current_app.config) or connector
        raise Conflict(
            _(
                "This meter is already connected to %(provider)s. Disconnect it first to "
                "connect it again.",
                provider=current.title,
            ),
            slug="already-connected",
        )
    _forget_tokens(connection)
    connection.provider = connector.name
    connection.status = ConnectionStatus.PENDING.value
    connection.state_sha256 = _digest(state)
    connection.failures = 0
    connection.last_error = None
    # The state's age is the row's: nothing else changes a pending connection.
    connection.updated_at = now
    session.flush()
    url = connector.authorize_url(state, callback_url(connector.name))
    return Authorisation(connection, url, now + STATE_TTL)


def claim_state(
    session: Session,
    provider: str,
    state: str | None,
    error: str | None = None,
    now: datetime | None = None,
) -> Claim:
    """Use up a callback's state (once); a refusal on the consent page revokes the connection.

    ``BadState`` for a state that is unknown, of another provider, expired or used.
    """
    now = now or utcnow()
    if not isinstance(state, str) or not 0 < len(state) <= MAX_STATE_LENGTH:
        raise BadState()
    digest = _digest(state)
    connection = session.scalar(
        sa.select(ProviderConnection).where(
            ProviderConnection.state_sha256 == digest, ProviderConnection.provider == provider
        )
    )
    if (
        connection is None
        or connection.status != ConnectionStatus.PENDING
        or connection.updated_at < now - STATE_TTL
    ):
        raise BadState()
    # Used once, even by two callbacks at the same moment: only one UPDATE matches.
    used = session.execute(
        sa.update(ProviderConnection)
        .where(
            ProviderConnection.id == connection.id,
            ProviderConnection.state_sha256 == digest,
            ProviderConnection.status == ConnectionStatus.PENDING.value,
        )
        .values(state_sha256=None, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not used:
        raise BadState()
    session.refresh(connection)
    if error is not None:
        connection.status = ConnectionStatus.REVOKED.value
        connection.last_error = (
            "access_denied" if error == "access_denied" else "authorisation_failed"
        )
        session.flush()
    return Claim(connection.id, provider, connection.user_id, denied=error is not None)


def exchange_code(
    provider: str, code: str | None, *, sleep: Callable[[float], None] = time.sleep
) -> Tokens:
    """The provider's tokens for a callback's code (an outbound call: no transaction open).

    ``ProviderError`` when the provider refuses or cannot be reached.
    """
    connector = available(provider)
    with ProviderClient(
        current_app.config, connector.hosts(), sleep=sleep, max_wait=CALLBACK_MAX_WAIT
    ) as client:
        return connector.exchange_code(client, code or "", callback_url(provider))


def activate(
    session: Session,
    claim: Claim,
    tokens: Tokens | None,
    usage_point: str | None,
    error: str | None = None,
    now: datetime | None = None,
) -> ProviderConnection | None:
    """Record the exchange's outcome: the connection active with its sealed tokens, or its
    error code; None when the connection ended or started over meanwhile."""
    now = now or utcnow()
    connection = session.scalar(
        sa.select(ProviderConnection)
        .where(ProviderConnection.id == claim.connection_id)
        .with_for_update()
    )
    if (
        connection is None
        or connection.status != ConnectionStatus.PENDING
        or connection.state_sha256 is not None
    ):
        return None
    connector = available(claim.provider)
    if error is None and tokens is not None:
        listed = tokens.usage_points
        if connector.valid_usage_point(usage_point) and (not listed or usage_point in listed):
            point = usage_point
        else:
            point = listed[0] if listed else None
        error = None if point is not None else "no_usage_point"
    if error is not None or tokens is None:
        connection.last_error = error or "token_exchange_failed"
        session.flush()
        return connection
    if connection.usage_point != point:
        connection.fetched_until = None  # another meter: its history is fetched from the start
    connection.usage_point = point
    connection.access_token = seal(tokens.access_token)
    connection.refresh_token = seal(tokens.refresh_token) if tokens.refresh_token else None
    connection.token_expires_at = now + timedelta(seconds=tokens.expires_in)
    connection.authorised_until = connector.today(now) + timedelta(days=connector.authorised_days)
    connection.status = ConnectionStatus.ACTIVE.value
    connection.failures = 0
    connection.last_error = None
    # Never attempted: the job's next run fetches its history.
    connection.last_attempt_at = None
    connection.updated_at = now
    session.flush()
    log.info(
        "meter connected to its provider",
        extra={"provider_connection_id": connection.id, "provider": connection.provider},
    )
    return connection


def _forget_tokens(connection: ProviderConnection) -> None:
    connection.access_token = None
    connection.refresh_token = None
    connection.token_expires_at = None
    connection.state_sha256 = None


def end_connection(
    connection: ProviderConnection, status: ConnectionStatus, code: str | None, now: datetime
) -> None:
    """The connection expired or revoked: its tokens erased, the reason kept."""
    _forget_tokens(connection)
    connection.status = status.value
    connection.last_error = code
    connection.updated_at = now


def disconnect(session: Session, user: User, meter: Meter, now: datetime | None = None) -> None:
    """End the meter's connection: the tokens are erased, the readings fetched stay (delete
    them with the meter, or by withdrawing the energy consent). Twice is once."""
    if meter.user_id != user.id:
        raise NotFound()
    connection = connection_of(session, meter)
    if connection is None or connection.status == ConnectionStatus.REVOKED:
        return
    end_connection(connection, ConnectionStatus.REVOKED, None, now or utcnow())
    session.flush()
    log.info(
        "meter disconnected from its provider",
        extra={"provider_connection_id": connection.id, "by": user.id},
    )
