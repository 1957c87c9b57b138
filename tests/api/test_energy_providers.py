"""Connecting my meter to Enedis through the API: the link, the page the browser comes back
to, the connection's status, disconnecting; only my own meters, nothing before consent.

Enedis is the local fake (tests/energy/fake_enedis.py).
"""

import sqlalchemy as sa

from energy.models import ConnectionStatus, ProviderConnection
from energy.providers.enedis import TOKEN_PATH
from energy.providers.jobs import refresh_connections
from tests.api.energy_helpers import count, upload
from tests.api.helpers import assert_problem
from tests.energy.fake_enedis import (
    USAGE_POINT,
    enedis_fixture,  # noqa: F401  (the ``enedis`` fixture)
    paris,
)
from tests.energy.helpers import Point, quarter_hours, usage_feed

CONNECTION_FIELDS = {
    "provider",
    "status",
    "usage_point",
    "authorised_until",
    "fetched_until",
    "last_attempt_at",
    "failures",
    "last_error",
    "created_at",
}
CALLBACK = "/api/v1/energy/providers/enedis/callback"


def _url(meter) -> str:
    return f"/api/v1/meters/{meter.id}/provider-connection"


def _connect(client, meter, headers, enedis, approve=True):
    """Ask for the link, consent at the fake, come back: the callback's answer."""
    answer = client.post(_url(meter), json={"provider": "enedis"}, headers=headers)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    back = enedis.consent(answer.get_json()["authorize_url"], approve=approve)
    return client.get(CALLBACK, query_string=back), back


def test_connecting_my_meter_end_to_end(client, db_session, meter, energy_headers, enedis):
    answer = client.post(_url(meter), json={"provider": "enedis"}, headers=energy_headers)
    assert answer.status_code == 201
    body = answer.get_json()
    assert set(body) == {"authorize_url", "expires_at", "connection"}
    assert set(body["connection"]) == CONNECTION_FIELDS
    assert body["connection"]["status"] == "pending"
    back = enedis.consent(body["authorize_url"])
    page = client.get(CALLBACK, query_string=back)
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Content-Language"] == "fr"  # the resident's city speaks French
    html = page.get_data(as_text=True)
    assert "Your meter is connected." in html or "compteur" in html
    for secret in (*enedis.access_tokens, *enedis.refresh_tokens, back["code"], back["state"]):
        assert secret not in html
    status = client.get(_url(meter), headers=energy_headers)
    assert status.status_code == 200
    shown = status.get_json()
    assert set(shown) == CONNECTION_FIELDS
    assert shown["status"] == "active" and shown["provider"] == "enedis"
    assert shown["usage_point"] == "*" * 10 + USAGE_POINT[-4:]
    assert shown["last_error"] is None and shown["fetched_until"] is None


def test_the_job_fetches_and_my_status_and_imports_say_so(
    app, client, db_session, meter, energy_headers, enedis
):
    _connect(client, meter, energy_headers, enedis)
    enedis.today = paris("2026-11-21T09:00").date()
    # The connection was made today (the real clock); the job runs within its year.
    with app.app_context():
        refresh_connections(db_session, paris("2026-11-21T09:00"), sleep=lambda _s: None)
    shown = client.get(_url(meter), headers=energy_headers).get_json()
    assert shown["fetched_until"] == "2026-11-21"
    assert shown["last_attempt_at"] is not None
    imports = client.get(f"/api/v1/meters/{meter.id}/imports", headers=energy_headers)
    (latest,) = imports.get_json()["items"]
    assert latest["kind"] == "provider"
    assert latest["summary"]["new"] > 0


def test_a_link_works_once(client, meter, energy_headers, enedis):
    page, back = _connect(client, meter, energy_headers, enedis)
    assert page.status_code == 200
    again = client.get(CALLBACK, query_string=back)
    assert again.status_code == 400
    assert again.mimetype == "text/html"
    assert len(enedis.calls(TOKEN_PATH)) == 1


def test_an_unknown_state_is_a_page_saying_to_start_again(client, enedis):
    page = client.get(CALLBACK, query_string={"code": "x", "state": "guessed"})
    assert page.status_code == 400
    assert page.mimetype == "text/html"
    assert page.headers["Cache-Control"] == "no-store"
    assert enedis.calls(TOKEN_PATH) == []
    assert client.get(CALLBACK).status_code == 400
    assert (
        client.get(CALLBACK.replace("enedis", "nobody"), query_string={"state": "x"}).status_code
        == 400
    )


def test_refusing_at_enedis(client, meter, energy_headers, enedis):
    page, _back = _connect(client, meter, energy_headers, enedis, approve=False)
    assert page.status_code == 200
    shown = client.get(_url(meter), headers=energy_headers).get_json()
    assert shown["status"] == "revoked"
    assert shown["last_error"]["code"] == "access_denied"
    assert shown["last_error"]["message"]


def test_enedis_failing_to_exchange_the_code(client, meter, energy_headers, enedis):
    enedis.fail(TOKEN_PATH, 503, times=3)
    page, _back = _connect(client, meter, energy_headers, enedis)
    assert page.status_code == 400
    shown = client.get(_url(meter), headers=energy_headers).get_json()
    assert shown["status"] == "pending"
    assert shown["last_error"]["code"] == "provider_unavailable"
    # Asking again gives a new link that works.
    page, _back = _connect(client, meter, energy_headers, enedis)
    assert page.status_code == 200


def test_disconnecting_keeps_my_readings(client, db_session, meter, energy_headers, enedis):
    feed = usage_feed(Point("1", "Flat", readings=quarter_hours(paris("2026-11-01T00:00"), 4)))
    upload(client, f"/api/v1/meters/{meter.id}/imports", energy_headers, feed)
    _connect(client, meter, energy_headers, enedis)
    assert client.delete(_url(meter), headers=energy_headers).status_code == 204
    assert client.delete(_url(meter), headers=energy_headers).status_code == 204
    shown = client.get(_url(meter), headers=energy_headers).get_json()
    assert shown["status"] == "revoked"
    connection = db_session.scalar(sa.select(ProviderConnection))
    assert connection.access_token is None and connection.refresh_token is None
    series = client.get(
        f"/api/v1/meters/{meter.id}/series?from=2026-11-01&to=2026-11-02&resolution=day",
        headers=energy_headers,
    )
    assert series.status_code == 200
    assert db_session.scalar(sa.select(sa.func.count()).select_from(ProviderConnection)) == 1


def test_without_a_connection_there_is_nothing_to_show(client, meter, energy_headers):
    assert_problem(client.get(_url(meter), headers=energy_headers), 404, "not-found")


def test_another_residents_meter_does_not_exist_for_me(
    client, db_session, meter, make_user, lyon, bearer, agree, enedis
):
    other = make_user(lyon)
    agree(other)
    headers = bearer(other)
    assert_problem(client.get(_url(meter), headers=headers), 404, "not-found")
    made = client.post(_url(meter), json={"provider": "enedis"}, headers=headers)
    assert_problem(made, 404, "not-found")
    assert_problem(client.delete(_url(meter), headers=headers), 404, "not-found")
    assert count(db_session, ProviderConnection) == 0


def test_no_connection_without_the_energy_consent(
    client, db_session, meter, energy_resident, energy_headers, enedis
):
    withdrawn = client.delete(
        "/api/v1/consents/energy_feedback?confirm=delete-readings", headers=energy_headers
    )
    assert withdrawn.status_code == 204
    made = client.post(_url(meter), json={"provider": "enedis"}, headers=energy_headers)
    assert_problem(made, 409, "consent-required")
    assert count(db_session, ProviderConnection) == 0


def test_withdrawing_the_consent_disconnects(client, db_session, meter, energy_headers, enedis):
    _connect(client, meter, energy_headers, enedis)
    client.delete(
        "/api/v1/consents/energy_feedback?confirm=delete-readings", headers=energy_headers
    )
    connection = db_session.scalar(sa.select(ProviderConnection))
    assert connection.status == ConnectionStatus.REVOKED
    assert connection.access_token is None


def test_bad_requests_change_nothing(client, db_session, meter, energy_headers, enedis):
    for body, field in (
        ({"provider": "nobody"}, "provider"),
        ({}, "provider"),
        ({"provider": "enedis", "user_id": 1}, "user_id"),
    ):
        answer = client.post(_url(meter), json=body, headers=energy_headers)
        assert_problem(answer, 422, "invalid")
        assert field in answer.get_json()["errors"]
    assert count(db_session, ProviderConnection) == 0


def test_a_connected_meter_is_not_connected_again(client, meter, energy_headers, enedis):
    _connect(client, meter, energy_headers, enedis)
    again = client.post(_url(meter), json={"provider": "enedis"}, headers=energy_headers)
    assert_problem(again, 409, "already-connected")


def test_a_deployment_without_enedis_says_so(app, client, meter, energy_headers, monkeypatch):
    monkeypatch.setitem(app.config, "ENEDIS_CLIENT_ID", None)
    answer = client.post(_url(meter), json={"provider": "enedis"}, headers=energy_headers)
    assert_problem(answer, 422, "invalid")
    assert "provider" in answer.get_json()["errors"]
