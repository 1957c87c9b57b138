"""Enedis Data Connect: the French electricity network's API for a resident's own Linky data.

- The resident authorises us on Enedis's consent page (``ENEDIS_AUTHORIZE_URL``, for
  ``P1Y``), which sends them back to our callback with a code, the state we gave, and their
  usage point (the 14-digit PRM). The code becomes tokens at ``/v1/oauth2/token``.
- ``/metering_data_clc/v5/consumption_load_curve`` gives the load curve, at most 7 days per
  call: average power in W over each interval (``interval_length``, PT30M mostly), stamped
  with the END of the interval in French local time. On the day the clocks go back the
  repeated hour's stamps come twice, in order; on the day they go forward the skipped hour's
  stamps do not come at all. Energy is power by time: 424 W over 30 minutes is 212 Wh.
- ``/metering_data_dc/v5/daily_consumption`` gives each local day's Wh (``date`` = the day),
  at most 365 days per call: used for the days the curve does not cover. The curve exists
  only where the resident switched it on; a 404, or a 400 with an ``ADAM-ERR`` code (no
  curve, a period before the meter's activation), means "no data for that span".
- A 401 on a data call means the access token is no longer good (refreshed once); a 403 means
  the resident's consent at Enedis is gone.
"""

import hashlib
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from energy.buckets import local_midnight
from energy.models import Commodity, Unit
from energy.providers.base import (
    Answer,
    AuthorisationRefused,
    Fetched,
    ProviderClient,
    ProviderError,
    TokenRejected,
    Tokens,
)
from energy.providers.enedis_readings import Reader

#: The zone of every date in Enedis's answers.
ZONE = ZoneInfo("Europe/Paris")
TOKEN_PATH = "/v1/oauth2/token"  # noqa: S105  (a path, not a password)
CURVE_PATH = "/metering_data_clc/v5/consumption_load_curve"
DAILY_PATH = "/metering_data_dc/v5/daily_consumption"
CURVE_DAYS_PER_CALL = 7
DAILY_DAYS_PER_CALL = 365
USAGE_POINT = re.compile(r"\d{14}")
MAX_TOKEN_LENGTH = 4096


def _chunks(start: date, end: date, days: int) -> Iterator[tuple[date, date]]:
    while start < end:
        stop = min(start + timedelta(days=days), end)
        yield start, stop
        start = stop


class Enedis:
    name = "enedis"
    title = "Enedis"
    commodity = Commodity.ELECTRICITY.value
    unit = Unit.WH.value
    zone = ZONE
    authorised_days = 365

    def __init__(self, config: Mapping):
        self.config = config

    def configured(self) -> bool:
        needed = ("ENEDIS_CLIENT_ID", "ENEDIS_CLIENT_SECRET", "ENEDIS_AUTHORIZE_URL")
        return all(self.config.get(name) for name in (*needed, "ENEDIS_API_URL"))

    def hosts(self) -> frozenset[str]:
        listed = self.config.get("ENEDIS_ALLOWED_HOSTS") or ""
        return frozenset(host.strip().lower() for host in listed.split(",") if host.strip())

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        base = self.config["ENEDIS_AUTHORIZE_URL"]
        query = urlencode(
            {
                "client_id": self.config["ENEDIS_CLIENT_ID"],
                "response_type": "code",
                "state": state,
                "duration": "P1Y",
                "redirect_uri": redirect_uri,
            }
        )
        return f"{base}{'&' if '?' in base else '?'}{query}"

    def valid_usage_point(self, text: str) -> bool:
        return isinstance(text, str) and USAGE_POINT.fullmatch(text) is not None

    def today(self, now: datetime) -> date:
        return now.astimezone(ZONE).date()

    def _api(self, path: str) -> str:
        return self.config["ENEDIS_API_URL"].rstrip("/") + path

    # --- tokens ---------------------------------------------------------------------------

    def exchange_code(self, client: ProviderClient, code: str, redirect_uri: str) -> Tokens:
        answer = client.post_form(
            self._api(TOKEN_PATH),
            {
                "grant_type": "authorization_code",
                "client_id": self.config["ENEDIS_CLIENT_ID"],
                "client_secret": self.config["ENEDIS_CLIENT_SECRET"],
                "code": code,
                "redirect_uri": redirect_uri,
            },
        )
        if answer.status in (400, 401, 403):
            raise ProviderError("token_exchange_failed", answer.status)
        return self._tokens(answer, refreshing=False)

    def refresh(self, client: ProviderClient, refresh_token: str) -> Tokens:
        answer = client.post_form(
            self._api(TOKEN_PATH),
            {
                "grant_type": "refresh_token",
                "client_id": self.config["ENEDIS_CLIENT_ID"],
                "client_secret": self.config["ENEDIS_CLIENT_SECRET"],
                "refresh_token": refresh_token,
            },
        )
        error = answer.body.get("error") if isinstance(answer.body, dict) else None
        if answer.status == 401 or (answer.status == 400 and error == "invalid_grant"):
            raise AuthorisationRefused("authorisation_refused", answer.status)
        if answer.status in (400, 403):
            raise ProviderError("token_refused", answer.status)
        return self._tokens(answer, refreshing=True)

    def _tokens(self, answer: Answer, refreshing: bool) -> Tokens:
        if answer.status != 200:
            raise ProviderError("unexpected_answer", answer.status)
        body = answer.body if isinstance(answer.body, dict) else {}
        access, refresh = body.get("access_token"), body.get("refresh_token")
        expires_in = body.get("expires_in")
        if isinstance(expires_in, str) and expires_in.isdigit():
            expires_in = int(expires_in)
        if (
            not isinstance(access, str)
            or not 0 < len(access) <= MAX_TOKEN_LENGTH
            or not (refresh is None or (isinstance(refresh, str) and 0 < len(refresh) <= 4096))
            or (refresh is None and not refreshing)
            or isinstance(expires_in, bool)
            or not isinstance(expires_in, int)
            or expires_in <= 0
        ):
            raise ProviderError("malformed_answer")
        points = body.get("usage_points_id")
        listed = points.split(",") if isinstance(points, str) else []
        usage_points = tuple(p.strip() for p in listed if self.valid_usage_point(p.strip()))
        return Tokens(access, refresh, expires_in, usage_points)

    # --- readings -------------------------------------------------------------------------

    def fetch(
        self,
        client: ProviderClient,
        access_token: str,
        usage_point: str,
        start: date,
        end: date,
        curve_from: date,
    ) -> Fetched:
        digest = hashlib.sha256()
        reader = Reader(usage_point, ZONE)
        for span in _chunks(max(start, curve_from), end, CURVE_DAYS_PER_CALL):
            body = self._data(client, CURVE_PATH, access_token, usage_point, span, digest)
            if body is not None:
                reader.curve(body)
        curve_days = {i.start.astimezone(ZONE).date() for i, _line in reader.read}
        days = [start + timedelta(days=n) for n in range((end - start).days)]
        lacking = {day for day in days if day not in curve_days}
        if lacking:
            first, last = min(lacking), max(lacking) + timedelta(days=1)
            for span in _chunks(first, last, DAILY_DAYS_PER_CALL):
                body = self._data(client, DAILY_PATH, access_token, usage_point, span, digest)
                if body is not None:
                    reader.daily(body, lacking)
        result = reader.result(local_midnight(start, ZONE), local_midnight(end, ZONE))
        covered = {i.start.astimezone(ZONE).date() for i in result.intervals}
        return Fetched(
            result=result,
            digest=digest.hexdigest(),
            covered_until=max(covered) + timedelta(days=1) if covered else None,
            detail={
                "curve_days": len(covered & curve_days),
                "daily_days": len(covered - curve_days),
                "requested": [start.isoformat(), end.isoformat()],
            },
        )

    def _data(
        self,
        client: ProviderClient,
        path: str,
        token: str,
        usage_point: str,
        span: tuple[date, date],
        digest,
    ):
        """One answer's JSON; None when Enedis has no such data for the span."""
        params = {"usage_point_id": usage_point, "start": span[0].isoformat()}
        params["end"] = span[1].isoformat()
        answer = client.get(self._api(path), params=params, token=token)
        if answer.status == 200:
            if not isinstance(answer.body, dict):
                raise ProviderError("malformed_answer")
            digest.update(answer.content)
            return answer.body
        error = answer.body.get("error") if isinstance(answer.body, dict) else None
        if answer.status == 404 or (
            answer.status == 400 and isinstance(error, str) and error.startswith("ADAM-ERR")
        ):
            return None
        if answer.status == 401:
            raise TokenRejected("token_rejected", 401)
        if answer.status == 403:
            raise AuthorisationRefused("authorisation_refused", 403)
        if 400 <= answer.status < 500:
            raise ProviderError("refused", answer.status)
        raise ProviderError("unexpected_answer", answer.status)
