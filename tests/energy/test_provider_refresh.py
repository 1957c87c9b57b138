"""Fetching a connected meter's readings from Enedis (the local fake): the load curve across
the clock changes with totals worked out by hand, daily values where the curve is missing,
the provider's faults, and tokens that expire.

The fake's half hours average 100 n W for the n-th half hour of a local day: 50 n Wh.
A day of 48 half hours: 50 (1 + … + 48) = 58,800 Wh; the day the clocks go back (50):
63,750 Wh; the day they go forward (46): 54,050 Wh.
"""

from datetime import date, timedelta
from itertools import pairwise

import pytest
import sqlalchemy as sa

from app.sealed import unseal
from energy.models import ConnectionStatus, MeterImport, ProviderConnection, Reading
from energy.providers.enedis import CURVE_PATH, DAILY_PATH, TOKEN_PATH
from energy.providers.jobs import refresh_connections
from energy.providers.refresh import fetch_readings, plan_refresh, record_refresh
from tests.energy.fake_enedis import (
    connect_meter,
    daily_wh,
    enedis_fixture,  # noqa: F401  (the ``enedis`` fixture)
    paris,
)

pytestmark = pytest.mark.usefixtures("in_app")


@pytest.fixture
def waits():
    """The waits between attempts, recorded instead of slept."""
    return []


@pytest.fixture
def connect(db_session, energy_resident, meter, enedis):
    """The energy resident's meter connected at ``now``, readings fetched up to ``fetched``."""

    def make(now, fetched: date | None = None) -> ProviderConnection:
        connection = connect_meter(db_session, energy_resident, meter, enedis, now)
        connection.fetched_until = fetched
        db_session.flush()
        return connection

    return make


@pytest.fixture
def refresh(app, db_session, waits):
    """One refresh of a connection as the job makes it: plan, fetch, record."""

    def run(connection, now) -> str:
        plan = plan_refresh(db_session, connection.id, now)
        db_session.flush()
        if plan is None:
            return "nothing"
        outcome = fetch_readings(plan, app.config, now, sleep=waits.append)
        result = record_refresh(db_session, plan, outcome, now)
        db_session.flush()
        db_session.refresh(connection)
        return result

    return run


def day_readings(db_session, meter, day: str) -> list[Reading]:
    """The meter's readings of a local day in Paris, in time order."""
    start = paris(f"{day}T00:00")
    end = paris(f"{date.fromisoformat(day) + timedelta(days=1)}T00:00")
    return list(
        db_session.scalars(
            sa.select(Reading)
            .where(Reading.meter_id == meter.id, Reading.start_at >= start, Reading.start_at < end)
            .order_by(Reading.start_at)
        )
    )


def imports_of(db_session, meter) -> list[MeterImport]:
    return list(
        db_session.scalars(
            sa.select(MeterImport).where(MeterImport.meter_id == meter.id).order_by(MeterImport.id)
        )
    )


def test_the_load_curve_across_the_day_the_clocks_go_back(db_session, meter, connect, refresh):
    now = paris("2026-10-27T10:00")
    connection = connect(now, fetched=date(2026, 10, 24))
    assert refresh(connection, now) == "stored"
    # From the day before fetched_until to yesterday: 23 to 26 October, in one call.
    day = day_readings(db_session, meter, "2026-10-25")
    assert len(day) == 50
    assert sum(r.value for r in day) == 63_750
    assert day[0].start_at == paris("2026-10-25T00:00")  # 24 October, 22:00 UTC
    assert day[-1].end_at == paris("2026-10-26T00:00")  # 25 October, 23:00 UTC: 25 hours
    assert all(a.end_at == b.start_at for a, b in pairwise(day))
    # 02:00 local twice: the 5th half hour (CEST, 00:00 UTC) and the 7th (CET, 01:00 UTC).
    by_start = {r.start_at.strftime("%H:%M"): r.value for r in day}
    assert by_start["00:00"] == 250 and by_start["01:00"] == 350
    assert sum(r.value for r in day_readings(db_session, meter, "2026-10-24")) == 58_800
    assert len(day_readings(db_session, meter, "2026-10-26")) == 48
    summary = imports_of(db_session, meter)[0].summary
    assert summary["new"] == 48 + 48 + 50 + 48
    assert summary["rejected_total"] == 0 and summary["gaps_total"] == 0
    assert summary["curve_days"] == 4 and summary["daily_days"] == 0
    assert any("02:00" in note for note in summary["notes"])
    assert connection.fetched_until == date(2026, 10, 27)
    assert connection.failures == 0 and connection.last_error is None


def test_the_load_curve_across_the_day_the_clocks_go_forward(
    db_session, meter, connect, refresh, enedis
):
    enedis.today = date(2026, 3, 30)
    now = paris("2026-03-30T10:00")
    connection = connect(now, fetched=date(2026, 3, 29))
    assert refresh(connection, now) == "stored"
    day = day_readings(db_session, meter, "2026-03-29")
    assert len(day) == 46
    assert sum(r.value for r in day) == 54_050
    assert day[-1].end_at - day[0].start_at == timedelta(hours=23)


def test_the_first_fetch_brings_a_year_of_days_and_a_month_of_half_hours(
    db_session, meter, connect, refresh, enedis
):
    now = paris("2026-11-21T09:00")
    connection = connect(now)
    assert refresh(connection, now) == "stored"
    # The curve: 22 October to 20 November (30 days, 5 calls of at most 7 days); daily
    # values for the 335 days before.
    curve_calls = enedis.calls(CURVE_PATH)
    assert (curve_calls[0].args["start"], curve_calls[0].args["end"]) == (
        "2026-10-22",
        "2026-10-29",
    )
    assert len(curve_calls) == 5
    daily_calls = enedis.calls(DAILY_PATH)
    assert [(c.args["start"], c.args["end"]) for c in daily_calls] == [("2025-11-21", "2026-10-22")]
    count = db_session.scalar(
        sa.select(sa.func.count()).select_from(Reading).where(Reading.meter_id == meter.id)
    )
    assert count == 335 + 30 * 48 + 2
    summary = imports_of(db_session, meter)[0].summary
    assert summary["curve_days"] == 30 and summary["daily_days"] == 335
    assert connection.fetched_until == date(2026, 11, 21)


def test_daily_values_stand_in_where_the_curve_is_not_switched_on(
    db_session, meter, connect, refresh, enedis
):
    enedis.curve_enabled = False
    now = paris("2026-11-21T09:00")
    connection = connect(now)
    assert refresh(connection, now) == "stored"
    rows = list(
        db_session.scalars(
            sa.select(Reading).where(Reading.meter_id == meter.id).order_by(Reading.start_at)
        )
    )
    assert len(rows) == 365
    first = date(2025, 11, 21)
    days = [first + timedelta(days=n) for n in range(365)]
    assert sum(r.value for r in rows) == sum(daily_wh(day) for day in days)
    # The day the clocks go back is 25 hours long, as a day reading too.
    (long_day,) = day_readings(db_session, meter, "2026-10-25")
    assert long_day.end_at - long_day.start_at == timedelta(hours=25)
    assert long_day.value == 8025
    assert imports_of(db_session, meter)[0].summary["daily_days"] == 365
    assert connection.fetched_until == date(2026, 11, 21)


def test_a_429_is_waited_out_as_asked_then_the_fetch_succeeds(
    db_session, meter, connect, refresh, enedis, waits
):
    enedis.fail(CURVE_PATH, 429, headers={"Retry-After": "1"})
    now = paris("2026-11-21T09:00")
    connection = connect(now, fetched=date(2026, 11, 20))
    assert refresh(connection, now) == "stored"
    assert waits == [1.0]
    assert len(enedis.calls(CURVE_PATH)) == 2
    assert len(day_readings(db_session, meter, "2026-11-20")) == 48


def test_a_429_asking_for_too_long_a_wait_is_tried_again_next_time(
    db_session, meter, connect, refresh, enedis, waits
):
    enedis.fail(CURVE_PATH, 429, headers={"Retry-After": "3600"})
    now = paris("2026-11-21T09:00")
    connection = connect(now, fetched=date(2026, 11, 20))
    assert refresh(connection, now) == "failed"
    assert waits == [] and connection.last_error == "rate_limited"


def test_a_provider_unavailable_twice_then_answering(
    db_session, meter, connect, refresh, enedis, waits
):
    enedis.fail(CURVE_PATH, 503, times=2)
    now = paris("2026-11-21T09:00")
    connection = connect(now, fetched=date(2026, 11, 20))
    assert refresh(connection, now) == "stored"
    assert len(waits) == 2 and len(enedis.calls(CURVE_PATH)) == 3
    assert connection.failures == 0


def test_a_provider_unavailable_for_good_stores_nothing_and_counts_a_failure(
    db_session, meter, connect, refresh, enedis, waits
):
    # The first week answers; the second fails on every attempt.
    enedis.fail(CURVE_PATH, 503, times=3, after=1)
    now = paris("2026-11-21T09:00")
    connection = connect(now, fetched=date(2026, 11, 10))
    assert refresh(connection, now) == "failed"
    assert len(enedis.calls(CURVE_PATH)) == 4
    assert connection.failures == 1 and connection.last_error == "provider_unavailable"
    assert connection.fetched_until == date(2026, 11, 10)
    assert connection.last_attempt_at == now
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 0
    assert imports_of(db_session, meter) == []


def test_values_that_are_not_numbers_are_rejected_with_their_place_and_the_rest_stored(
    db_session, meter, connect, refresh, enedis
):
    enedis.odd_values = {"2026-11-20 12:00:00": "n/a", "2026-11-20 12:30:00": "-5"}
    now = paris("2026-11-21T09:00")
    connection = connect(now, fetched=date(2026, 11, 20))
    assert refresh(connection, now) == "stored"
    summary = imports_of(db_session, meter)[0].summary
    assert summary["rejected_total"] == 2
    # The 20th is the second day asked for: its noon half hours are values 48 + 24 and 25.
    assert [r["line"] for r in summary["rejected"]] == [72, 73]
    assert summary["gaps_total"] == 1
    assert len(day_readings(db_session, meter, "2026-11-20")) == 46


@pytest.mark.parametrize(
    ("body", "code"),
    [("not json", "malformed_answer"), ("x" * (3 * 1024 * 1024), "answer_too_large")],
    ids=["not json", "huge"],
)
def test_an_unreadable_answer_is_a_failure_and_stores_nothing(
    db_session, meter, connect, refresh, enedis, body, code
):
    enedis.fail(CURVE_PATH, 200, body=body)
    now = paris("2026-11-21T09:00")
    connection = connect(now, fetched=date(2026, 11, 20))
    assert refresh(connection, now) == "failed"
    assert connection.last_error == code
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 0


def test_a_provider_too_slow_to_answer_is_a_timeout(
    app, db_session, meter, connect, refresh, enedis, monkeypatch
):
    monkeypatch.setitem(app.config, "ENERGY_PROVIDER_TIMEOUT", 0.5)
    now = paris("2026-11-21T09:00")
    connection = connect(now, fetched=date(2026, 11, 20))
    released = enedis.stall(CURVE_PATH)
    try:
        assert refresh(connection, now) == "failed"
    finally:
        released.set()
    assert connection.last_error == "timeout"
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 0
    enedis.wait_for(CURVE_PATH, 3)  # the server answers the abandoned calls before the next test


def test_an_expired_access_token_is_renewed_first(db_session, meter, connect, refresh, enedis):
    now = paris("2026-11-21T09:00")
    connection = connect(now, fetched=date(2026, 11, 20))
    later = now + timedelta(hours=4)  # past the token's 3.5 hours
    assert refresh(connection, later) == "stored"
    renewal = enedis.calls(TOKEN_PATH)[-1].form
    assert renewal["grant_type"] == "refresh_token"
    assert unseal(connection.access_token) in enedis.access_tokens
    assert unseal(connection.refresh_token) in enedis.refresh_tokens
    assert connection.token_expires_at == later + timedelta(seconds=enedis.expires_in)


def test_a_token_the_provider_drops_early_is_renewed_once(
    db_session, meter, connect, refresh, enedis
):
    now = paris("2026-11-21T09:00")
    connection = connect(now, fetched=date(2026, 11, 20))
    enedis.access_tokens.clear()
    assert refresh(connection, now) == "stored"
    assert [c.args.get("start") for c in enedis.calls(CURVE_PATH)] == ["2026-11-19"] * 2
    assert len(day_readings(db_session, meter, "2026-11-20")) == 48


def test_a_refused_renewal_expires_the_connection(db_session, meter, connect, refresh, enedis):
    now = paris("2026-11-21T09:00")
    connection = connect(now, fetched=date(2026, 11, 20))
    enedis.refresh_refused = True
    assert refresh(connection, now + timedelta(hours=4)) == "expired"
    assert connection.status == ConnectionStatus.EXPIRED
    assert connection.last_error == "authorisation_refused"
    assert connection.access_token is None and connection.refresh_token is None
    assert enedis.calls(CURVE_PATH) == []


def test_nothing_is_fetched_once_the_consent_is_gone(
    db_session, energy_resident, meter, connect, refresh, enedis, publish_energy_text, lyon
):
    now = paris("2026-11-21T09:00")
    connection = connect(now, fetched=date(2026, 11, 20))
    publish_energy_text(lyon)  # a new version: asked again, not agreed yet
    assert refresh(connection, now) == "nothing"
    assert connection.last_error == "consent_required"
    assert enedis.calls(CURVE_PATH) == []


# --- the job --------------------------------------------------------------------------------


def test_the_job_refreshing_twice_stores_nothing_new_the_second_time(
    db_session, meter, connect, enedis, waits
):
    now = paris("2026-11-21T09:00")
    connection = connect(now)
    first = refresh_connections(db_session, now, sleep=waits.append)
    assert first["stored"] == 1
    count = db_session.scalar(sa.select(sa.func.count()).select_from(Reading))
    # The same hour again: nothing is due.
    assert refresh_connections(db_session, now, sleep=waits.append)["due"] == 0
    # The next morning, before Enedis has published the 21st: the 20th again, unchanged.
    again = refresh_connections(db_session, now + timedelta(days=1), sleep=waits.append)
    assert again["stored"] == 1
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Reading)) == count
    summary = imports_of(db_session, meter)[-1].summary
    assert summary["new"] == 0 and summary["replaced"] == 0 and summary["unchanged"] == 48
    db_session.refresh(connection)
    assert connection.fetched_until == date(2026, 11, 21)


def test_the_job_waits_longer_after_each_failure(db_session, meter, connect, enedis, waits):
    now = paris("2026-11-21T09:00")
    connection = connect(now, fetched=date(2026, 11, 20))
    enedis.fail(CURVE_PATH, 503, times=3)
    assert refresh_connections(db_session, now, sleep=waits.append)["failed"] == 1
    half_hour, hour = now + timedelta(minutes=30), now + timedelta(hours=1)
    assert refresh_connections(db_session, half_hour, sleep=waits.append)["due"] == 0
    enedis.fail(CURVE_PATH, 503, times=3)
    assert refresh_connections(db_session, hour, sleep=waits.append)["failed"] == 1
    db_session.refresh(connection)
    assert connection.failures == 2
    # Two failures: two hours after the last attempt.
    assert (
        refresh_connections(db_session, hour + timedelta(hours=1), sleep=waits.append)["due"] == 0
    )
    done = refresh_connections(db_session, hour + timedelta(hours=2), sleep=waits.append)
    assert done["stored"] == 1
    db_session.refresh(connection)
    assert connection.failures == 0 and connection.last_error is None


def test_the_job_ends_a_connection_whose_authorisation_ran_out(
    db_session, meter, connect, enedis, waits
):
    now = paris("2026-11-21T09:00")
    connection = connect(now, fetched=date(2026, 11, 20))
    refresh_connections(db_session, now + timedelta(days=365), sleep=waits.append)
    db_session.refresh(connection)
    assert connection.status == ConnectionStatus.EXPIRED
    assert connection.last_error == "authorisation_ended"
    assert connection.access_token is None
    assert enedis.calls(CURVE_PATH) == []
