"""Retention: raw readings past ENERGY_RAW_DAYS become one reading per local day (23 or 25
hours across Vienna's clock changes), only whole days all past the cutoff, totals kept, daily
readings left alone, and a second run changes nothing."""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.db import write_intent
from app.scheduler import JOBS
from energy.jobs import roll_up_readings
from energy.models import Meter, Reading
from energy.series import meter_series
from tests.conftest import city_with_people, session_of
from tests.energy.series_helpers import local, put, until

pytestmark = pytest.mark.usefixtures("in_app")

DAYS = 730


@pytest.fixture
def vienna_meter(energy_resident, make_meter):
    return make_meter(energy_resident, timezone="Europe/Vienna")


def at_cutoff(text: str):
    """The ``now`` whose cutoff is the given Vienna wall-clock time."""
    return local(text) + timedelta(days=DAYS)


def total(session, meter) -> float:
    return session.scalar(sa.select(sa.func.sum(Reading.value)).where(Reading.meter_id == meter.id))


def test_old_quarter_hours_become_local_days(db_session, vienna_meter, readings_of):
    # 26 to 28 March 2022; the clocks went forward on the 27th. The cutoff falls at noon of
    # the 28th: that day is not whole before it and stays raw.
    put(db_session, vienna_meter, until(local("2022-03-26T00:00"), local("2022-03-29T00:00")))
    before = total(db_session, vienna_meter)
    counts = roll_up_readings(db_session, now=at_cutoff("2022-03-28T12:00"), raw_days=DAYS)
    assert counts == {"meters": 1, "days": 2, "readings": 96 + 92}
    rows = readings_of(vienna_meter)
    assert len(rows) == 2 + 96
    (start1, end1, value1, import1), (start2, end2, value2, import2) = rows[:2]
    assert (start1, end1, value1, import1) == (
        local("2022-03-26T00:00"),
        local("2022-03-27T00:00"),
        960.0,
        None,
    )
    assert (start2, end2, value2, import2) == (
        local("2022-03-27T00:00"),
        local("2022-03-28T00:00"),
        920.0,
        None,
    )
    assert end2 - start2 == timedelta(hours=23)
    assert rows[2][0] == local("2022-03-28T00:00") and rows[2][3] is not None
    assert total(db_session, vienna_meter) == before
    # The 23-hour day is a day: it is not rolled up again.
    again = roll_up_readings(db_session, now=at_cutoff("2022-03-28T12:00"), raw_days=DAYS)
    assert again == {"meters": 0, "days": 0, "readings": 0}
    # The series reads the rolled-up days as whole days.
    points = meter_series(db_session, vienna_meter, date(2022, 3, 26), date(2022, 3, 29), "day")
    assert [(p.value, p.readings, p.complete) for p in points.points] == [
        (960.0, 1, True),
        (920.0, 1, True),
        (960.0, 96, True),
    ]


def test_a_second_run_changes_nothing(db_session, vienna_meter, readings_of):
    put(db_session, vienna_meter, until(local("2022-10-29T00:00"), local("2022-11-01T00:00"), 60))
    now = at_cutoff("2022-11-01T00:00")
    first = roll_up_readings(db_session, now=now, raw_days=DAYS)
    # The clocks went back on 30 October: that day is 25 hours.
    assert first == {"meters": 1, "days": 3, "readings": 24 + 25 + 24}
    rows = readings_of(vienna_meter)
    assert [end - start for start, end, _, _ in rows] == [
        timedelta(hours=24),
        timedelta(hours=25),
        timedelta(hours=24),
    ]
    assert [value for _, _, value, _ in rows] == [240.0, 250.0, 240.0]
    again = roll_up_readings(db_session, now=now, raw_days=DAYS)
    assert again == {"meters": 0, "days": 0, "readings": 0}
    later = roll_up_readings(db_session, now=now + timedelta(days=30), raw_days=DAYS)
    assert later == {"meters": 0, "days": 0, "readings": 0}
    assert readings_of(vienna_meter) == rows


def test_recent_readings_and_daily_ones_stay(
    db_session, vienna_meter, energy_resident, make_meter, readings_of
):
    # A daily reading imported as such on the 1st, quarter hours on the 2nd.
    put(db_session, vienna_meter, until(local("2022-06-01T00:00"), local("2022-06-02T00:00"), 1440))
    put(db_session, vienna_meter, until(local("2022-06-02T00:00"), local("2022-06-03T00:00")))
    recent = make_meter(energy_resident, timezone="Europe/Vienna")
    put(db_session, recent, until(local("2024-06-01T00:00"), local("2024-06-02T00:00")))
    daily = readings_of(vienna_meter)[0]
    counts = roll_up_readings(db_session, now=at_cutoff("2022-06-10T00:00"), raw_days=DAYS)
    assert counts == {"meters": 1, "days": 1, "readings": 96}
    first, second = readings_of(vienna_meter)
    assert first == daily  # its import is still known
    assert second == (local("2022-06-02T00:00"), local("2022-06-03T00:00"), 960.0, None)
    assert len(readings_of(recent)) == 96


def test_a_day_a_raw_reading_runs_past_the_cutoff_into_stays(db_session, vienna_meter, readings_of):
    # Half-hour readings shifted by a quarter: the last one of the 5th ends at 00:15 on the
    # 6th, after a cutoff at midnight, so the 5th is not rolled up yet; the 4th is.
    put(db_session, vienna_meter, until(local("2022-07-04T00:15"), local("2022-07-06T00:15"), 30))
    counts = roll_up_readings(db_session, now=at_cutoff("2022-07-06T00:00"), raw_days=DAYS)
    assert counts == {"meters": 1, "days": 1, "readings": 48}
    rows = readings_of(vienna_meter)
    assert rows[0][:2] == (local("2022-07-04T00:00"), local("2022-07-05T00:00"))
    assert len(rows) == 1 + 48
    # A day later, the 5th goes too, without overlapping the 4th.
    counts = roll_up_readings(db_session, now=at_cutoff("2022-07-07T00:00"), raw_days=DAYS)
    assert counts["days"] == 1
    assert [row[:2] for row in readings_of(vienna_meter)] == [
        (local("2022-07-04T00:00"), local("2022-07-05T00:00")),
        (local("2022-07-05T00:00"), local("2022-07-06T00:00")),
    ]


def test_the_scheduler_runs_it_daily_with_the_configured_period(
    app, db_session, vienna_meter, readings_of, caplog
):
    function, trigger = JOBS["energy.retention"]
    assert trigger == {"trigger": "interval", "days": 1}
    assert app.config["ENERGY_RAW_DAYS"] == 730
    put(db_session, vienna_meter, until(local("2022-01-10T00:00"), local("2022-01-11T00:00")))
    with caplog.at_level(logging.INFO, logger="livinglab.energy"):
        function(db_session, now=at_cutoff("2022-01-12T00:00"))
    assert len(readings_of(vienna_meter)) == 1
    [summary] = [r for r in caplog.records if r.getMessage() == "energy readings rolled up"]
    assert (summary.meters, summary.days, summary.readings) == (1, 1, 96)
    assert "960" not in caplog.text  # counts only, never a value


def test_two_schedulers_at_once_roll_each_day_up_once(committed_app):
    """Two processes led by mistake at once: each meter is locked for its transaction, so the
    second finds the days already rolled up."""
    with session_of(committed_app) as session:
        city, people = city_with_people(session, 3)
        meters = []
        for person in people:
            meter = Meter(
                user_id=person.id,
                city_id=city.id,
                commodity="electricity",
                unit="Wh",
                timezone="Europe/Vienna",
            )
            session.add(meter)
            session.flush()
            put(session, meter, until(local("2022-03-25T00:00"), local("2022-03-29T00:00")))
            meters.append(meter.id)
        session.commit()
    now = at_cutoff("2022-03-29T00:00")
    barrier = threading.Barrier(2)

    def run() -> dict:
        write_intent.set(True)  # as the scheduler declares its jobs
        with session_of(committed_app) as session:
            barrier.wait()
            return roll_up_readings(session, now=now, raw_days=DAYS)

    with ThreadPoolExecutor(2) as pool:
        results = [future.result() for future in [pool.submit(run), pool.submit(run)]]
    assert sum(r["days"] for r in results) == 3 * 4
    assert sum(r["readings"] for r in results) == 3 * (3 * 96 + 92)
    with session_of(committed_app) as session:
        for meter_id in meters:
            rows = session.execute(
                sa.select(Reading.start_at, Reading.value)
                .where(Reading.meter_id == meter_id)
                .order_by(Reading.start_at)
            ).all()
            assert [value for _, value in rows] == [960.0, 960.0, 920.0, 960.0]
