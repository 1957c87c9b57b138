"""Series: local days of 23 and 25 hours in Vienna, ISO weeks, months split by local time,
sub-day steps summing finer readings, coarser readings refused, and the cap on points."""

from datetime import UTC, date, datetime

import pytest

from app.errors import Invalid
from energy.series import MAX_POINTS, meter_series
from tests.energy.series_helpers import local, put, steps, until

pytestmark = pytest.mark.usefixtures("in_app")


@pytest.fixture
def vienna_meter(energy_resident, make_meter):
    return make_meter(energy_resident, timezone="Europe/Vienna", label="Wohnung")


def days(session, meter, start, end):
    return meter_series(session, meter, start, end, "day").points


def test_the_day_clocks_go_forward_has_23_hours_and_says_so(db_session, vienna_meter):
    put(db_session, vienna_meter, until(local("2024-03-30T00:00"), local("2024-04-01T00:00")))
    saturday, sunday = days(db_session, vienna_meter, date(2024, 3, 30), date(2024, 4, 1))
    assert (saturday.hours, saturday.readings, saturday.value) == (24, 96, 960.0)
    assert saturday.note is None and saturday.complete
    assert sunday.start.isoformat() == "2024-03-31T00:00:00+01:00"
    assert sunday.end.isoformat() == "2024-04-01T00:00:00+02:00"
    assert (sunday.hours, sunday.readings, sunday.value) == (23, 92, 920.0)
    assert sunday.complete and sunday.coverage == 1
    assert sunday.note == "The clocks went forward: this period has 23 hours."


def test_the_day_clocks_go_back_has_25_hours_and_says_so(db_session, vienna_meter):
    put(db_session, vienna_meter, until(local("2024-10-27T00:00"), local("2024-10-28T00:00")))
    [sunday] = days(db_session, vienna_meter, date(2024, 10, 27), date(2024, 10, 28))
    assert sunday.start.isoformat() == "2024-10-27T00:00:00+02:00"
    assert sunday.end.isoformat() == "2024-10-28T00:00:00+01:00"
    assert (sunday.hours, sunday.readings, sunday.value, sunday.complete) == (25, 100, 1000, True)
    assert sunday.note == "The clocks went back: this period has 25 hours."


def test_a_reading_counts_in_the_local_month_it_starts_in(db_session, vienna_meter):
    # Hourly readings from 30 January to 2 February, local time: the one starting at local
    # midnight of 1 February starts on 31 January in UTC, and belongs to February.
    readings = until(local("2024-01-30T00:00"), local("2024-02-02T00:00"), 60, lambda i: i)
    put(db_session, vienna_meter, readings)
    series = meter_series(db_session, vienna_meter, date(2024, 1, 15), date(2024, 2, 10), "month")
    january, february = series.points
    assert january.start.isoformat() == "2024-01-01T00:00:00+01:00"
    assert january.end.isoformat() == february.start.isoformat() == "2024-02-01T00:00:00+01:00"
    assert february.end.isoformat() == "2024-03-01T00:00:00+01:00"
    assert (january.readings, february.readings) == (48, 24)
    assert january.value == sum(range(48)) and february.value == sum(range(48, 72))
    assert january.coverage == round(48 / (31 * 24), 4) and not january.complete
    assert (january.hours, february.hours) == (744, 696)
    assert series.total == sum(range(72)) and series.readings == 72
    assert (series.start, series.end) == (january.start, february.end)


def test_a_month_with_a_clock_change(db_session, vienna_meter):
    [march] = meter_series(
        db_session, vienna_meter, date(2024, 3, 1), date(2024, 4, 1), "month"
    ).points
    assert march.hours == 31 * 24 - 1
    assert march.note == "The clocks went forward: this period has 743 hours."
    assert (march.value, march.readings, march.coverage, march.complete) == (None, 0, 0, False)


def test_weeks_start_on_monday_in_the_meters_zone(db_session, vienna_meter):
    put(db_session, vienna_meter, until(local("2024-03-24T00:00"), local("2024-04-01T00:00"), 60))
    # Wednesday 27 March to Tuesday 2 April: the week from Monday 25 March, and the next.
    first, second = meter_series(
        db_session, vienna_meter, date(2024, 3, 27), date(2024, 4, 2), "week"
    ).points
    assert first.start.isoformat() == "2024-03-25T00:00:00+01:00"
    assert second.start.isoformat() == "2024-04-01T00:00:00+02:00"
    assert (first.hours, first.readings, first.complete) == (167, 167, True)
    assert (second.readings, second.value) == (0, None)


def test_hours_sum_four_quarter_hours_aligned_on_utc(db_session, vienna_meter):
    put(db_session, vienna_meter, steps(datetime(2024, 5, 6, 10, tzinfo=UTC), 10, 15, float))
    series = meter_series(
        db_session,
        vienna_meter,
        datetime(2024, 5, 6, 10, 20, tzinfo=UTC),  # widened to 10:00
        datetime(2024, 5, 6, 13, tzinfo=UTC),
        "hour",
    )
    assert [(p.readings, p.value, p.complete) for p in series.points] == [
        (4, 0 + 1 + 2 + 3.0, True),
        (4, 4 + 5 + 6 + 7.0, True),
        (2, 8 + 9.0, False),
    ]
    assert series.points[0].start.isoformat() == "2024-05-06T12:00:00+02:00"
    assert series.points[2].coverage == 0.5 and series.points[2].note is None
    half_hours = meter_series(
        db_session, vienna_meter, date(2024, 5, 6), date(2024, 5, 7), "30min"
    ).points
    assert len(half_hours) == 48
    assert [p.value for p in half_hours if p.readings] == [1.0, 5.0, 9.0, 13.0, 17.0]


def test_a_time_without_offset_is_read_on_the_meters_clock(db_session, vienna_meter):
    put(db_session, vienna_meter, steps(local("2024-05-06T08:00"), 8, 15))
    [point] = meter_series(
        db_session, vienna_meter, datetime(2024, 5, 6, 8), datetime(2024, 5, 6, 9), "hour"
    ).points
    assert point.start.isoformat() == "2024-05-06T08:00:00+02:00"
    assert point.readings == 4


def test_only_this_meters_readings_count(db_session, vienna_meter, energy_resident, make_meter):
    other = make_meter(energy_resident, timezone="Europe/Vienna")
    put(db_session, other, until(local("2024-05-06T00:00"), local("2024-05-07T00:00")))
    put(db_session, vienna_meter, steps(local("2024-05-06T00:00"), 2))
    [day] = days(db_session, vienna_meter, date(2024, 5, 6), date(2024, 5, 7))
    assert (day.readings, day.value) == (2, 20.0)


@pytest.mark.parametrize(
    ("minutes", "asked", "finest"),
    [(60, "15min", "hour"), (60 * 24, "hour", "day"), (30, "15min", "30min")],
)
def test_readings_coarser_than_asked_are_refused(db_session, vienna_meter, minutes, asked, finest):
    put(db_session, vienna_meter, steps(local("2024-05-06T00:00"), 3, minutes))
    with pytest.raises(Invalid) as refused:
        meter_series(db_session, vienna_meter, date(2024, 5, 6), date(2024, 5, 7), asked)
    [message] = refused.value.errors["resolution"]
    assert f"ask for {finest} or coarser" in message


def test_daily_readings_of_23_and_25_hours_fit_days(db_session, vienna_meter):
    spring = local("2024-03-31T00:00"), local("2024-04-01T00:00")
    put(db_session, vienna_meter, [*until(*spring, minutes=23 * 60)])
    [day] = days(db_session, vienna_meter, date(2024, 3, 31), date(2024, 4, 1))
    assert (day.readings, day.complete) == (1, True)


def test_at_most_5000_points(db_session, vienna_meter):
    assert MAX_POINTS == 5000
    ok = meter_series(db_session, vienna_meter, date(2024, 1, 1), date(2024, 2, 22), "15min")
    assert len(ok.points) == 52 * 96
    with pytest.raises(Invalid) as refused:
        meter_series(db_session, vienna_meter, date(2024, 1, 1), date(2024, 3, 1), "15min")
    assert "to" in refused.value.errors


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (date(2024, 5, 6), date(2024, 5, 6), "to"),
        (date(2024, 5, 7), date(2024, 5, 6), "to"),
        (date(1, 1, 1), date(2024, 5, 6), "from"),
        (date(2024, 5, 6), date(9999, 12, 31), "to"),
    ],
)
def test_a_period_that_is_not_one_is_refused(db_session, vienna_meter, start, end, field):
    with pytest.raises(Invalid) as refused:
        meter_series(db_session, vienna_meter, start, end, "day")
    assert field in refused.value.errors
