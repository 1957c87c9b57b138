"""Calls to a meter data provider reach only its allow-listed hosts, over https, on public
addresses, at every hop of a redirect (SECURITY.md row 18).

The fake server is on loopback at ``localhost``. Tests that need to reach it allow private
addresses over http (OUTBOUND_ALLOW_PRIVATE) and still list ``localhost`` alone as the
provider's host; ``127.0.0.1`` is the same server under a name that is not allowed.
"""

from datetime import date

import pytest
import sqlalchemy as sa

from energy.models import MeterImport, Reading
from energy.providers.enedis import CURVE_PATH
from energy.providers.jobs import refresh_connections
from notifications.outbound import OutboundSession, Refused, request_following
from tests.energy.fake_enedis import (
    connect_meter,
    enedis_fixture,  # noqa: F401  (the ``enedis`` fixture)
    paris,
)

pytestmark = pytest.mark.usefixtures("in_app")

NOW = paris("2026-11-21T09:00")


def other_host(httpserver, path: str) -> str:
    """The same fake server, under a name that is not on the allow-list."""
    return f"http://127.0.0.1:{httpserver.port}{path}"


@pytest.fixture
def connected(db_session, energy_resident, meter, enedis):
    connection = connect_meter(db_session, energy_resident, meter, enedis, NOW)
    connection.fetched_until = date(2026, 11, 20)
    db_session.flush()
    return connection


def _refresh(db_session, connection) -> None:
    refresh_connections(db_session, NOW, sleep=lambda _seconds: None)
    db_session.refresh(connection)


def _nothing_stored(db_session) -> bool:
    readings = db_session.scalar(sa.select(sa.func.count()).select_from(Reading))
    imported = db_session.scalar(sa.select(sa.func.count()).select_from(MeterImport))
    return readings == 0 and imported == 0


def test_a_redirect_to_another_host_is_refused_before_it_is_called(
    db_session, connected, enedis, httpserver
):
    httpserver.expect_request("/elsewhere").respond_with_json({"meter_reading": {}})
    enedis.redirect(CURVE_PATH, other_host(httpserver, "/elsewhere"))
    _refresh(db_session, connected)
    assert connected.last_error == "host_not_allowed" and connected.failures == 1
    assert [r.path for r, _ in httpserver.log if r.path == "/elsewhere"] == []
    assert _nothing_stored(db_session)


def test_a_provider_address_on_another_host_is_refused(
    app, db_session, connected, httpserver, monkeypatch
):
    monkeypatch.setitem(app.config, "ENEDIS_API_URL", other_host(httpserver, ""))
    _refresh(db_session, connected)
    assert connected.last_error == "host_not_allowed"
    assert [r.path for r, _ in httpserver.log if r.path == CURVE_PATH] == []


@pytest.mark.parametrize(
    "api_url",
    ["http://{host}:{port}", "https://{host}:{port}"],
    ids=["plain http", "https to loopback"],
)
def test_in_production_plain_http_and_loopback_are_refused(
    app, db_session, connected, httpserver, monkeypatch, api_url
):
    monkeypatch.setitem(app.config, "OUTBOUND_ALLOW_PRIVATE", False)
    url = api_url.format(host="localhost", port=httpserver.port)
    monkeypatch.setitem(app.config, "ENEDIS_API_URL", url)
    _refresh(db_session, connected)
    assert connected.last_error == "address_refused"
    assert [r.path for r, _ in httpserver.log if r.path == CURVE_PATH] == []
    assert _nothing_stored(db_session)


# --- following redirects, hop by hop --------------------------------------------------------


def test_redirects_within_the_allowed_hosts_are_followed(httpserver):
    httpserver.expect_request("/a").respond_with_data(
        "", status=302, headers={"Location": "/b?x=1"}
    )
    httpserver.expect_request("/b").respond_with_json({"ok": True})
    with OutboundSession(allow_private=True) as session:
        response = request_following(
            session, "GET", httpserver.url_for("/a"), hosts={"localhost"}, params={"y": "2"}
        )
    assert response.json() == {"ok": True}
    (_first, _), (second, _) = httpserver.log
    # The redirect's own query, not the first request's parameters.
    assert second.args.to_dict() == {"x": "1"}


def test_more_than_three_redirects_are_refused(httpserver):
    for hop in range(4):
        httpserver.expect_request(f"/{hop}").respond_with_data(
            "", status=307, headers={"Location": f"/{hop + 1}"}
        )
    httpserver.expect_request("/4").respond_with_data("never")
    with OutboundSession(allow_private=True) as session, pytest.raises(Refused) as refused:
        request_following(session, "GET", httpserver.url_for("/0"), hosts={"localhost"})
    assert refused.value.reason == "redirects"
    assert [r.path for r, _ in httpserver.log] == ["/0", "/1", "/2", "/3"]


def test_a_303_turns_a_post_into_a_get_and_a_307_keeps_it(httpserver):
    httpserver.expect_request("/see-other", method="POST").respond_with_data(
        "", status=303, headers={"Location": "/result"}
    )
    httpserver.expect_request("/result", method="GET").respond_with_data("got")
    httpserver.expect_request("/temporary", method="POST").respond_with_data(
        "", status=307, headers={"Location": "/again"}
    )
    httpserver.expect_request("/again", method="POST").respond_with_data("posted")
    with OutboundSession(allow_private=True) as session:
        got = request_following(session, "POST", httpserver.url_for("/see-other"), data={"a": 1})
        posted = request_following(
            session, "POST", httpserver.url_for("/temporary"), data={"a": "1"}
        )
    assert got.text == "got" and posted.text == "posted"
    assert httpserver.log[-1][0].form["a"] == "1"


def test_the_bearer_token_is_not_sent_to_another_host(httpserver):
    httpserver.expect_request("/a").respond_with_data(
        "", status=302, headers={"Location": other_host(httpserver, "/b")}
    )
    httpserver.expect_request("/b").respond_with_data("ok")
    with OutboundSession(allow_private=True) as session:
        request_following(
            session,
            "GET",
            httpserver.url_for("/a"),
            hosts={"localhost", "127.0.0.1"},
            headers={"Authorization": "Bearer secret"},
        )
    first, second = (request for request, _ in httpserver.log)
    assert first.headers["Authorization"] == "Bearer secret"
    assert "Authorization" not in second.headers
