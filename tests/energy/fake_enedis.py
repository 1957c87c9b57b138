"""A local stand-in for Enedis Data Connect on pytest-httpserver, answering as the real one does.

It issues codes on its "consent page" (``consent``), exchanges them for tokens, renews tokens,
and serves the 30-minute load curve (average W, stamped with the END of each interval in
French local time: the repeated hour twice in order on the day the clocks go back, the skipped
hour not at all) and daily consumption in Wh, for every day before ``today``. A test scripts
its faults: answers served before the normal ones (``fail``), a stall (``stall``), a redirect
(``redirect``), a refused refresh, a curve the resident never switched on.

The ``enedis`` fixture points the app at it: its host (``localhost``) is the allow-list, and
OUTBOUND_ALLOW_PRIVATE lets the calls reach loopback over plain http.
"""

import json
import threading
import time
from collections import defaultdict, deque
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from werkzeug import Request, Response

from energy.buckets import local_midnight
from energy.providers import connections
from energy.providers.enedis import CURVE_PATH, DAILY_PATH, TOKEN_PATH

PARIS = ZoneInfo("Europe/Paris")
AUTHORIZE_PATH = "/dataconnect/v1/oauth2/authorize"
CLIENT_ID = "living-lab-test"
CLIENT_SECRET = "client-secret-for-tests"
USAGE_POINT = "24115050109876"
PUBLIC_URL = "https://lab.example.org"
CALLBACK = f"{PUBLIC_URL}/api/v1/energy/providers/enedis/callback"
HALF_HOUR = timedelta(minutes=30)


def index_watts(day: date, index: int) -> float:
    """The fake's load: the n-th half hour of a local day (1, 2, …) averages 100 n W."""
    return 100.0 * index


def daily_wh(day: date) -> float:
    """The fake's daily consumption: 8 kWh plus the day of the month in Wh."""
    return 8000.0 + day.day


class FakeEnedis:
    def __init__(self, server):
        self.server = server
        #: Readings exist for the days before this one.
        self.today = date(2026, 11, 21)
        self.curve_enabled = True
        self.refresh_refused = False
        self.expires_in = 12600
        self.codes: set[str] = set()
        self.access_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.issued = 0
        self.scripted: dict[str, deque] = defaultdict(deque)
        self.stalls: dict[str, threading.Event] = {}
        #: Load curve values sent as given instead of the load's, by their ``date`` text.
        self.odd_values: dict[str, str] = {}
        server.expect_request(TOKEN_PATH, method="POST").respond_with_handler(self._token)
        server.expect_request(CURVE_PATH, method="GET").respond_with_handler(self._curve)
        server.expect_request(DAILY_PATH, method="GET").respond_with_handler(self._daily)

    # --- what tests script ----------------------------------------------------------------

    def fail(
        self, path: str, status: int, times: int = 1, headers=None, body=None, after: int = 0
    ) -> None:
        """Answer ``times`` calls to ``path`` with ``status``, after ``after`` normal answers."""
        self.scripted[path].extend([None] * after)
        for _ in range(times):
            self.scripted[path].append(Response(body or "", status=status, headers=headers))

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.scripted[path].append(Response("", status=status, headers={"Location": location}))

    def stall(self, path: str) -> threading.Event:
        """The next call to ``path`` waits until the event is set (or 5 s) before answering."""
        released = threading.Event()
        self.stalls[path] = released
        return released

    def consent(self, authorize_url: str, approve: bool = True) -> dict:
        """The resident on the consent page: the query the browser brings back to us."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        assert query["client_id"] == CLIENT_ID
        assert query["response_type"] == "code"
        assert query["duration"] == "P1Y"
        if not approve:
            return {"state": query["state"], "error": "access_denied"}
        self.issued += 1
        code = f"code-{self.issued}"
        self.codes.add(code)
        return {"state": query["state"], "code": code, "usage_point_id": USAGE_POINT}

    def calls(self, path: str) -> list[Request]:
        return [request for request, _response in self.server.log if request.path == path]

    def wait_for(self, path: str, count: int) -> None:
        """Let the server answer ``count`` calls to ``path`` (abandoned by a timed-out client)
        before the test ends: none of them may reach the next test's server log."""
        deadline = time.monotonic() + 10
        while len(self.calls(path)) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    # --- the API ----------------------------------------------------------------------------

    def _scripted(self, path: str) -> Response | None:
        """The scripted answer of this call, if any (None in the script: the normal one)."""
        released = self.stalls.pop(path, None)
        if released is not None:
            released.wait(5)
        return self.scripted[path].popleft() if self.scripted[path] else None

    def _issue(self) -> dict:
        self.issued += 1
        access, refresh = f"access-{self.issued}", f"refresh-{self.issued}"
        self.access_tokens = {access}
        self.refresh_tokens = {refresh}
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": refresh,
            "scope": "am_application_scope default",
            "usage_points_id": USAGE_POINT,
        }

    def _token(self, request: Request) -> Response:
        scripted = self._scripted(TOKEN_PATH)
        if scripted is not None:
            return scripted
        form = request.form
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return _json({"error": "invalid_client"}, 401)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            if form.get("code") not in self.codes or form.get("redirect_uri") != CALLBACK:
                return _json({"error": "invalid_grant"}, 400)
            self.codes.discard(form["code"])
            return _json(self._issue())
        if grant == "refresh_token":
            if self.refresh_refused or form.get("refresh_token") not in self.refresh_tokens:
                return _json({"error": "invalid_grant"}, 400)
            return _json(self._issue())
        return _json({"error": "unsupported_grant_type"}, 400)

    def _checked(self, request: Request, path: str) -> tuple[Response | None, date, date]:
        """A refusal (scripted, or of the token or usage point), else the days to answer."""
        scripted = self._scripted(path)
        args = request.args
        start, end = date.fromisoformat(args["start"]), date.fromisoformat(args["end"])
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if scripted is None and token not in self.access_tokens:
            scripted = _json({"error": "invalid_token"}, 401)
        if scripted is None and args.get("usage_point_id") != USAGE_POINT:
            scripted = _json({"error": "ADAM-DC-0008", "error_description": "no consent"}, 403)
        return scripted, start, min(end, self.today)

    def _curve(self, request: Request) -> Response:
        refused, start, end = self._checked(request, CURVE_PATH)
        if refused is not None:
            return refused
        if (end - start).days > 7:
            return _json({"error": "ADAM-ERR0021", "error_description": "period too long"}, 400)
        if not self.curve_enabled:
            return _json({"error": "ADAM-ERR0069", "error_description": "no load curve"}, 404)
        values = []
        day = start
        while day < end:
            moment, index = local_midnight(day, PARIS), 0
            while moment < local_midnight(day + timedelta(days=1), PARIS):
                moment, index = moment + HALF_HOUR, index + 1
                stamp = moment.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S")
                values.append(
                    {
                        "value": self.odd_values.get(stamp, f"{index_watts(day, index):.0f}"),
                        "date": stamp,
                        "interval_length": "PT30M",
                        "measure_type": "B",
                    }
                )
            day += timedelta(days=1)
        kind = {"unit": "W", "measurement_kind": "power", "aggregate": "average"}
        return _reading(request, kind, values)

    def _daily(self, request: Request) -> Response:
        refused, start, end = self._checked(request, DAILY_PATH)
        if refused is not None:
            return refused
        days = [start + timedelta(days=n) for n in range(max((end - start).days, 0))]
        values = [{"value": f"{daily_wh(day):.0f}", "date": day.isoformat()} for day in days]
        kind = {"unit": "Wh", "measurement_kind": "energy", "aggregate": "sum"}
        return _reading(request, kind, values)


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _reading(request: Request, kind: dict, values: list) -> Response:
    args = request.args
    reading = {
        "usage_point_id": args["usage_point_id"],
        "start": args["start"],
        "end": args["end"],
        "quality": "BRUT",
        "reading_type": kind,
        "interval_reading": values,
    }
    return _json({"meter_reading": reading})


def paris(text: str) -> datetime:
    """A local time in Paris as an aware UTC datetime (first occurrence when repeated)."""
    return datetime.fromisoformat(text).replace(tzinfo=PARIS).astimezone(UTC)


@pytest.fixture(name="enedis")
def enedis_fixture(app, httpserver, monkeypatch) -> FakeEnedis:
    """The fake Enedis, and the app configured to use it (a test-only allowance for loopback
    over http; the host allow-list still holds)."""
    fake = FakeEnedis(httpserver)
    settings = {
        "ENEDIS_CLIENT_ID": CLIENT_ID,
        "ENEDIS_CLIENT_SECRET": CLIENT_SECRET,
        "ENEDIS_AUTHORIZE_URL": httpserver.url_for(AUTHORIZE_PATH),
        "ENEDIS_API_URL": httpserver.url_for("/").rstrip("/"),
        "ENEDIS_ALLOWED_HOSTS": "localhost",
        "OUTBOUND_ALLOW_PRIVATE": True,
        "ENERGY_PROVIDER_TIMEOUT": 2,
        "ENERGY_PROVIDER_BACKOFF": 0,
        "PUBLIC_URL": PUBLIC_URL,
    }
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    return fake


def connect_meter(session, user, meter, fake: FakeEnedis, now: datetime):
    """Connect the meter through the services, as the API's POST and callback do."""
    authorisation = connections.start_authorisation(session, user, meter, "enedis", now)
    back = fake.consent(authorisation.url)
    claim = connections.claim_state(session, "enedis", back["state"], None, now)
    tokens = connections.exchange_code("enedis", back["code"])
    return connections.activate(session, claim, tokens, back["usage_point_id"], None, now)
