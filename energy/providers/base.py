"""What a meter data provider's connector does, and the careful HTTP client every connector
calls its provider through.

A connector knows one provider's API: where residents authorise us, how codes and refresh
tokens become access tokens, and how readings are asked for and read. It never stores
anything: the service (``connections``, ``refresh``) does.

The client is where the outbound rules hold (SECURITY.md rows 18 and 19): every URL, and every
hop of a redirect (at most 3, followed by us), must be https to a host on the provider's
allow-list and pass ``notifications.outbound``'s public-address checks; each call waits at most
``ENERGY_PROVIDER_TIMEOUT`` (≤ 10) seconds to connect and to answer, and reads at most
``MAX_BODY`` bytes. A 429 (after its Retry-After, when that is short enough), a 500, 502, 503
or 504, a timeout or a lost connection is tried again, 3 attempts in all, with exponential
backoff and jitter; other answers are the connector's to read. Failures are ``ProviderError``
with a short code: never a token, a URL (it may hold one) or a body.
"""

import json
import secrets
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import requests

from energy.intervals import ParseResult
from notifications import outbound
from notifications.channels.push import retry_after

#: A year of half-hour load curve arrives 7 days per call (336 values, ~30 kB); a year of
#: daily values in one: 2 MB leaves room for any sane answer and none for a flood.
MAX_BODY = 2 * 1024 * 1024
ATTEMPTS = 3
#: The longest wait between two attempts; a Retry-After asking for more ends the attempts
#: (the next refresh tries again).
MAX_WAIT = 30.0
RETRIED = frozenset({500, 502, 503, 504})


class ProviderError(Exception):
    """A call to a provider that failed; ``code`` is short and safe to store and show."""

    def __init__(self, code: str, status: int | None = None):
        super().__init__(code)
        self.code = code
        self.status = status


class AuthorisationRefused(ProviderError):
    """The provider no longer accepts our tokens (401, or a refresh refused): only the
    resident authorising us again helps."""


class TokenRejected(ProviderError):
    """A data call answered 401: the access token may have expired early; refresh it once."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    #: None when a refresh answer keeps the refresh token as it was.
    refresh_token: str | None
    expires_in: int
    #: The provider's ids of the meters the resident authorised (Enedis: usage points).
    usage_points: tuple[str, ...] = ()


@dataclass
class Fetched:
    """What one fetch read, ready to store: the intervals as a reader's ``ParseResult``."""

    result: ParseResult
    #: SHA-256 of the answers as received, in order (recorded on the import).
    digest: str
    #: The day after the last local day with any value (None without values).
    covered_until: date | None
    #: Figures for the import's summary (days from the load curve, days from daily values…).
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # the JSON answer, or None when it was not JSON
    content: bytes


class Connector(Protocol):
    """One provider's API. ``name`` is stored on connections and used in URLs."""

    name: str
    title: str
    commodity: str
    unit: str
    #: The zone of the provider's days: the days asked for, and when a day is complete.
    zone: ZoneInfo
    #: How long an authorisation runs, in days (the provider's consent page says so too).
    authorised_days: int

    def configured(self) -> bool: ...

    def hosts(self) -> frozenset[str]: ...

    def authorize_url(self, state: str, redirect_uri: str) -> str: ...

    def valid_usage_point(self, text: str) -> bool: ...

    def exchange_code(self, client: "ProviderClient", code: str, redirect_uri: str) -> Tokens: ...

    def refresh(self, client: "ProviderClient", refresh_token: str) -> Tokens: ...

    def today(self, now: datetime) -> date:
        """The provider's local day at ``now``: its days are the ones asked for."""
        ...

    def fetch(
        self,
        client: "ProviderClient",
        access_token: str,
        usage_point: str,
        start: date,
        end: date,
        curve_from: date,
    ) -> Fetched:
        """Readings of the local days ``[start, end)``: interval data from ``curve_from`` on
        where the provider has it, daily values for the other days."""
        ...


def _backoff(base: float, attempt: int) -> float:
    """Exponential, with jitter so many meters failing together do not retry together."""
    return base * 2 ** (attempt - 1) * secrets.SystemRandom().uniform(0.5, 1.0)


class ProviderClient:
    """Calls to one provider, with the outbound rules and retries above; use as a context
    manager (one per refresh or callback).

    ``sleep`` waits between attempts (tests pass one that only records); ``max_wait`` caps a
    single wait (a web request waits less than a job).
    """

    def __init__(
        self,
        config: Mapping,
        hosts: Collection[str],
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = MAX_WAIT,
        attempts: int = ATTEMPTS,
    ):
        timeout = min(float(config["ENERGY_PROVIDER_TIMEOUT"]), outbound.MAX_TIMEOUT)
        self.session = outbound.OutboundSession(
            allow_private=bool(config.get("OUTBOUND_ALLOW_PRIVATE", False)),
            timeout=timeout,
            max_body=MAX_BODY,
        )
        self.hosts = frozenset(hosts)
        self.backoff = float(config["ENERGY_PROVIDER_BACKOFF"])
        self.sleep = sleep
        self.max_wait = max_wait
        self.attempts = attempts

    def __enter__(self) -> "ProviderClient":
        return self

    def __exit__(self, *exc) -> None:
        self.session.close()

    def get(self, url: str, *, params: dict, token: str) -> Answer:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        return self.call("GET", url, params=params, headers=headers)

    def post_form(self, url: str, data: dict) -> Answer:
        return self.call("POST", url, data=data, headers={"Accept": "application/json"})

    def call(self, method: str, url: str, **kwargs) -> Answer:
        """One request, tried again on what may pass; the last failure's code otherwise."""
        failure = "provider_unavailable"
        for attempt in range(1, self.attempts + 1):
            wait = _backoff(self.backoff, attempt)
            try:
                response = outbound.request_following(
                    self.session, method, url, hosts=self.hosts, **kwargs
                )
            except outbound.Refused as refused:
                code = "host_not_allowed" if refused.reason == "host" else "address_refused"
                if refused.reason == "redirects":
                    code = "too_many_redirects"
                raise ProviderError(code) from None
            except outbound.TooLarge:
                raise ProviderError("answer_too_large") from None
            except (outbound.TooSlow, requests.Timeout):
                failure = "timeout"
            except requests.ConnectionError:
                failure = "connection_failed"
            except requests.RequestException:
                failure = "request_failed"
            else:
                status = response.status_code
                if status == 429:
                    failure = "rate_limited"
                    asked = retry_after(response)
                    if asked is not None:
                        if asked > self.max_wait:
                            break
                        wait = asked
                elif status in RETRIED:
                    failure = "provider_unavailable"
                else:
                    return _answer(response)
            if attempt < self.attempts:
                self.sleep(min(wait, self.max_wait))
        raise ProviderError(failure)


def _answer(response: requests.Response) -> Answer:
    content = response.content or b""
    try:
        body = json.loads(content) if content else None
    except ValueError:
        body = None
    return Answer(response.status_code, body, content)
