"""Connecting a meter to Enedis: the authorisation link, the callback's state, the tokens
sealed at rest, disconnecting, and withdrawing the energy consent.

The provider is the local fake (tests/energy/fake_enedis.py) on pytest-httpserver.
"""

import hashlib
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from app.errors import Conflict, Invalid, NotFound
from app.sealed import unseal
from energy import imports, meters
from energy.models import ConnectionStatus, ProviderConnection
from energy.providers import connections
from energy.providers.base import ProviderError
from tests.energy.fake_enedis import (
    AUTHORIZE_PATH,
    CALLBACK,
    TOKEN_PATH,
    USAGE_POINT,
    connect_meter,
    enedis_fixture,  # noqa: F401  (the ``enedis`` fixture)
    paris,
)
from tests.energy.helpers import Point, quarter_hours, usage_feed

pytestmark = pytest.mark.usefixtures("in_app")

NOW = paris("2026-11-21T09:00")


def _query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_the_link_leads_to_the_consent_page_with_a_state_kept_only_as_its_hash(
    db_session, energy_resident, meter, enedis
):
    authorisation = connections.start_authorisation(
        db_session, energy_resident, meter, "enedis", NOW
    )
    assert authorisation.url.startswith(enedis.server.url_for(AUTHORIZE_PATH) + "?")
    query = _query(authorisation.url)
    assert query["client_id"] == "living-lab-test"
    assert query["response_type"] == "code"
    assert query["duration"] == "P1Y"
    assert query["redirect_uri"] == CALLBACK
    assert len(query["state"]) >= 43  # 256 random bits
    connection = authorisation.connection
    assert connection.status == ConnectionStatus.PENDING
    assert connection.state_sha256 == hashlib.sha256(query["state"].encode()).hexdigest()
    assert authorisation.expires_at == NOW + timedelta(minutes=30)
    stored = db_session.execute(sa.text("SELECT * FROM meter_provider_connections")).one()
    assert query["state"] not in [str(value) for value in stored]


def test_asking_again_gives_a_new_link_and_the_first_one_stops_working(
    db_session, energy_resident, meter, enedis
):
    first = connections.start_authorisation(db_session, energy_resident, meter, "enedis", NOW)
    second = connections.start_authorisation(db_session, energy_resident, meter, "enedis", NOW)
    assert second.connection.id == first.connection.id
    assert _query(first.url)["state"] != _query(second.url)["state"]
    with pytest.raises(connections.BadState):
        connections.claim_state(db_session, "enedis", _query(first.url)["state"], None, NOW)
    claim = connections.claim_state(db_session, "enedis", _query(second.url)["state"], None, NOW)
    assert claim.connection_id == first.connection.id


def test_the_callback_stores_the_tokens_sealed_and_the_meter_is_connected(
    db_session, energy_resident, meter, enedis
):
    connection = connect_meter(db_session, energy_resident, meter, enedis, NOW)
    assert connection.status == ConnectionStatus.ACTIVE
    assert connection.usage_point == USAGE_POINT
    assert connection.state_sha256 is None
    assert connection.authorised_until == date(2027, 11, 21)
    assert connection.token_expires_at == NOW + timedelta(seconds=enedis.expires_in)
    assert connection.fetched_until is None and connection.last_attempt_at is None
    # The code went to the token endpoint with our client's credentials.
    exchange = enedis.calls(TOKEN_PATH)[0].form
    assert exchange["grant_type"] == "authorization_code"
    assert exchange["redirect_uri"] == CALLBACK
    # In the database, the tokens are not readable; unsealed, they are the provider's.
    access, refresh = db_session.execute(
        sa.text("SELECT access_token, refresh_token FROM meter_provider_connections")
    ).one()
    assert "access-" not in access and "refresh-" not in refresh
    assert unseal(access) in enedis.access_tokens
    assert unseal(refresh) in enedis.refresh_tokens


def test_a_state_works_once_and_for_thirty_minutes(db_session, energy_resident, meter, enedis):
    authorisation = connections.start_authorisation(
        db_session, energy_resident, meter, "enedis", NOW
    )
    state = _query(authorisation.url)["state"]
    late = NOW + timedelta(minutes=31)
    with pytest.raises(connections.BadState):
        connections.claim_state(db_session, "enedis", state, None, late)
    connections.claim_state(db_session, "enedis", state, None, NOW + timedelta(minutes=29))
    with pytest.raises(connections.BadState):
        connections.claim_state(db_session, "enedis", state, None, NOW + timedelta(minutes=29))


@pytest.mark.parametrize("state", [None, "", "not-a-state", "x" * 500])
def test_unknown_states_are_refused(db_session, energy_resident, meter, enedis, state):
    connections.start_authorisation(db_session, energy_resident, meter, "enedis", NOW)
    with pytest.raises(connections.BadState):
        connections.claim_state(db_session, "enedis", state, None, NOW)


def test_refusing_on_the_consent_page_revokes_the_connection(
    db_session, energy_resident, meter, enedis
):
    authorisation = connections.start_authorisation(
        db_session, energy_resident, meter, "enedis", NOW
    )
    back = enedis.consent(authorisation.url, approve=False)
    claim = connections.claim_state(db_session, "enedis", back["state"], back["error"], NOW)
    assert claim.denied
    connection = db_session.get(ProviderConnection, claim.connection_id)
    assert connection.status == ConnectionStatus.REVOKED
    assert connection.last_error == "access_denied"
    assert enedis.calls(TOKEN_PATH) == []


def test_a_code_the_provider_refuses_leaves_the_connection_pending_with_the_reason(
    db_session, energy_resident, meter, enedis
):
    authorisation = connections.start_authorisation(
        db_session, energy_resident, meter, "enedis", NOW
    )
    back = enedis.consent(authorisation.url)
    claim = connections.claim_state(db_session, "enedis", back["state"], None, NOW)
    with pytest.raises(ProviderError) as failed:
        connections.exchange_code("enedis", "a-code-never-issued")
    assert failed.value.code == "token_exchange_failed"
    connection = connections.activate(db_session, claim, None, None, failed.value.code, NOW)
    assert connection.status == ConnectionStatus.PENDING
    assert connection.last_error == "token_exchange_failed"
    assert connection.access_token is None


def test_a_connected_meter_is_not_connected_twice(db_session, energy_resident, meter, enedis):
    connect_meter(db_session, energy_resident, meter, enedis, NOW)
    with pytest.raises(Conflict) as refused:
        connections.start_authorisation(db_session, energy_resident, meter, "enedis", NOW)
    assert refused.value.slug == "already-connected"


def test_only_an_electricity_meter_in_wh_connects_to_enedis(
    db_session, energy_resident, make_meter, enedis
):
    gas = make_meter(energy_resident, commodity="gas")
    with pytest.raises(Invalid) as refused:
        connections.start_authorisation(db_session, energy_resident, gas, "enedis", NOW)
    assert "provider" in refused.value.errors


def test_another_residents_meter_is_not_found(db_session, meter, make_user, lyon, agree, enedis):
    other = make_user(lyon)
    agree(other)
    with pytest.raises(NotFound):
        connections.start_authorisation(db_session, other, meter, "enedis", NOW)


def test_nothing_starts_without_the_energy_consent(db_session, energy_resident, meter, enedis):
    meters.withdraw_energy_consent(db_session, energy_resident, NOW)
    with pytest.raises(Conflict) as refused:
        connections.start_authorisation(db_session, energy_resident, meter, "enedis", NOW)
    assert refused.value.slug == "consent-required"
    assert db_session.scalar(sa.select(sa.func.count(ProviderConnection.id))) == 0


def test_a_provider_not_set_up_here_is_not_available(
    db_session, energy_resident, meter, app, monkeypatch
):
    monkeypatch.setitem(app.config, "ENEDIS_CLIENT_ID", None)
    with pytest.raises(Invalid) as refused:
        connections.start_authorisation(db_session, energy_resident, meter, "enedis", NOW)
    assert "provider" in refused.value.errors
    with pytest.raises(Invalid):
        connections.start_authorisation(db_session, energy_resident, meter, "nobody", NOW)


def test_disconnecting_erases_the_tokens_and_keeps_the_readings(
    db_session, energy_resident, meter, enedis, readings_of
):
    feed = usage_feed(Point("1", "Flat", readings=quarter_hours(paris("2026-11-01T00:00"), 8)))
    imports.import_file(db_session, energy_resident, meter, feed, "flat.xml")
    connection = connect_meter(db_session, energy_resident, meter, enedis, NOW)
    connections.disconnect(db_session, energy_resident, meter, NOW)
    connections.disconnect(db_session, energy_resident, meter, NOW)  # twice is once
    assert connection.status == ConnectionStatus.REVOKED
    assert connection.access_token is None and connection.refresh_token is None
    assert len(readings_of(meter)) == 8


def test_withdrawing_the_energy_consent_ends_the_connection(
    db_session, energy_resident, meter, enedis
):
    connection = connect_meter(db_session, energy_resident, meter, enedis, NOW)
    meters.withdraw_energy_consent(db_session, energy_resident, NOW)
    db_session.refresh(connection)
    assert connection.status == ConnectionStatus.REVOKED
    assert connection.access_token is None and connection.refresh_token is None
    assert connection.last_error == "consent_withdrawn"


def test_deleting_the_meter_deletes_its_connection(db_session, energy_resident, meter, enedis):
    connect_meter(db_session, energy_resident, meter, enedis, NOW)
    meters.delete_meter(db_session, energy_resident, meter)
    assert db_session.scalar(sa.select(sa.func.count(ProviderConnection.id))) == 0


def test_the_log_says_who_connected_and_never_a_token(
    db_session, energy_resident, meter, enedis, caplog
):
    with caplog.at_level("INFO", logger="livinglab.energy"):
        connect_meter(db_session, energy_resident, meter, enedis, NOW)
        connections.disconnect(db_session, energy_resident, meter, NOW)
    ours = [r for r in caplog.records if r.name == "livinglab.energy"]
    assert [r.getMessage() for r in ours] == [
        "meter connected to its provider",
        "meter disconnected from its provider",
    ]
    logged = " ".join(str(r.__dict__) for r in ours)
    assert not any(token in logged for token in (*enedis.access_tokens, *enedis.refresh_tokens))
