"""Feedback figures, against values computed by hand: consumption and coverage (also across
clock changes), comparisons, baseload from night minima with its share and yearly cost,
peak hour and shares, heating degree days, and the reasons a figure is missing."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from energy import meters
from energy.feedback import figures
from energy.feedback.figures import (
    KEYS,
    figures_for_meters,
    heating_degree_days,
    meter_figures,
    temperature_span,
)
from energy.feedback.weather import temperatures_of
from energy.models import FeedbackPeriod
from energy.tariffs import set_tariff, tariffs_of
from tests.energy.feedback_helpers import (
    QUARTER,
    hour_of,
    midnight,
    seed_readings,
    seed_temperatures,
)

pytestmark = pytest.mark.usefixtures("in_app")

WEEK, MONTH = FeedbackPeriod.WEEK, FeedbackPeriod.MONTH
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
#: ISO week 10 of 2024, Monday 4 to Sunday 10 March, no clock change in Vienna.
MONDAY = date(2024, 3, 4)


def values(found: dict) -> dict:
    return {key: figure["value"] for key, figure in found.items()}


def reasons(found: dict) -> dict:
    return {key: f["how"].get("missing") for key, f in found.items() if f["value"] is None}


def week_of(monday: date) -> tuple[datetime, datetime]:
    return midnight(monday), midnight(monday + 7 * DAY)


def constant(value: float):
    return lambda moment: value


@pytest.fixture
def vienna_meter(energy_resident, make_meter):
    """An electricity meter in Wh on Vienna's clock."""
    return make_meter(energy_resident, timezone="Europe/Vienna", label="Wohnung")


@pytest.fixture
def tariff(db_session, city_admin, lyon):
    return set_tariff(db_session, city_admin, lyon, "electricity", "0.25", "EUR")


def household_pattern(moment: datetime) -> float:
    """Wh per quarter hour: 120 Wh an hour at night except 03:00, whose hour is 60 Wh on
    Monday and 4 Wh more each day after; 400 Wh an hour from 17:00 to 21:00 (480 at 19:00),
    200 otherwise."""
    hour = hour_of(moment)
    if hour == 3:
        return 15 + (moment.astimezone(ZoneInfo("Europe/Vienna")).date() - MONDAY).days
    if hour < 5:
        return 30
    if hour == 19:
        return 120
    if 17 <= hour < 21:
        return 100
    return 50


def test_a_week_of_quarter_hours_by_hand(db_session, vienna_meter, tariff):
    # Days of 5220 Wh plus 4 Wh a day: 36,624 Wh; readings around it do not count.
    around = midnight(date(2024, 3, 2)), midnight(date(2024, 3, 13))
    seed_readings(db_session, vienna_meter, *around, QUARTER, household_pattern)
    found = meter_figures(db_session, vienna_meter, WEEK, MONDAY)
    assert list(found) == list(KEYS)
    consumption = found["consumption"]
    assert (consumption["value"], consumption["unit"]) == (36624.0, "Wh")
    assert consumption["how"] == {
        "method": "sum",
        "readings": 672,
        "from": "2024-03-03T23:00:00+00:00",
        "to": "2024-03-10T23:00:00+00:00",
        "coverage": 1.0,
        "hours": 168.0,
        "first_day": "2024-03-04",
        "last_day": "2024-03-10",
    }
    # Nightly minima 60, 64, … 84 Wh in an hour: the median is 72 W.
    baseload = found["baseload"]
    assert (baseload["value"], baseload["unit"]) == (72.0, "W")
    assert baseload["how"]["nights"] == 7 and baseload["how"]["readings"] == 7 * 5 * 4
    assert baseload["how"]["minima"]["2024-03-04"] == 60.0
    assert baseload["how"]["minima"]["2024-03-10"] == 84.0
    assert found["baseload_share_pct"]["value"] == round(72 * 168 / 36624 * 100, 1)  # 33.0
    assert (found["baseload_yearly"]["value"], found["baseload_yearly"]["unit"]) == (
        630720.0,
        "Wh",
    )
    cost = found["baseload_yearly_cost"]
    assert (cost["value"], cost["unit"]) == (157.68, "EUR")  # 630.72 kWh at 0.25
    assert cost["how"]["price"] == 0.25 and cost["how"]["per"] == "kWh"
    assert found["peak_hour"]["value"] == 19 and found["peak_hour"]["unit"] == "h"
    assert found["peak_hour"]["how"]["mean"] == 480.0
    assert found["evening_share_pct"]["value"] == round(7 * 1680 / 36624 * 100, 1)  # 32.1
    assert found["weekday_share"]["value"] == round(26140 / 36624 * 100, 1)  # 71.4
    # Electricity of a household that does not heat with it.
    assert reasons(found)["hdd"] == "not_heating"
    assert reasons(found)["heating_share_pct"] == "not_heating"


@pytest.mark.parametrize(
    ("monday", "hours", "night_readings"),
    [
        (date(2024, 10, 21), 169, 6 * 20 + 24),  # the night of 27 October has six hours
        (date(2024, 3, 25), 167, 6 * 20 + 16),  # the night of 31 March has four
    ],
)
def test_a_week_across_a_clock_change(db_session, vienna_meter, monday, hours, night_readings):
    start, end = week_of(monday)
    seed_readings(db_session, vienna_meter, start - DAY, end + DAY, QUARTER, constant(10))
    found = meter_figures(db_session, vienna_meter, WEEK, monday)
    how = found["consumption"]["how"]
    assert found["consumption"]["value"] == hours * 40
    assert (how["readings"], how["hours"], how["coverage"]) == (hours * 4, hours, 1.0)
    assert (how["from"], how["to"]) == (start.isoformat(), end.isoformat())
    assert found["baseload"]["value"] == 40.0
    assert found["baseload"]["how"]["nights"] == 7
    assert found["baseload"]["how"]["readings"] == night_readings
    assert found["baseload_share_pct"]["value"] == 100.0


def test_comparisons_with_the_previous_week_and_last_year(db_session, vienna_meter):
    seed_readings(db_session, vienna_meter, *week_of(MONDAY), QUARTER, constant(10))
    seed_readings(db_session, vienna_meter, *week_of(date(2024, 2, 26)), QUARTER, constant(8))
    # ISO week 10 of 2023.
    seed_readings(db_session, vienna_meter, *week_of(date(2023, 3, 6)), QUARTER, constant(12.5))
    found = meter_figures(db_session, vienna_meter, WEEK, MONDAY)
    assert found["previous"]["value"] == 5376.0
    assert found["previous"]["how"]["first_day"] == "2024-02-26"
    assert found["change_previous_pct"]["value"] == 25.0
    assert found["last_year"]["value"] == 8400.0
    assert found["last_year"]["how"]["first_day"] == "2023-03-06"
    assert found["change_last_year_pct"]["value"] == -20.0


def test_no_comparison_with_a_period_half_covered(db_session, vienna_meter):
    start, end = week_of(MONDAY)
    seed_readings(db_session, vienna_meter, start, end, QUARTER, constant(10))
    # The week before: only from Monday to Wednesday noon.
    before = midnight(date(2024, 2, 26))
    seed_readings(db_session, vienna_meter, before, before + 84 * HOUR, QUARTER, constant(10))
    found = meter_figures(db_session, vienna_meter, WEEK, MONDAY)
    assert found["previous"]["value"] == 84 * 40
    assert found["previous"]["how"]["coverage"] == 0.5
    change = found["change_previous_pct"]
    assert change["value"] is None
    assert (change["how"]["missing"], change["how"]["period"]) == ("low_coverage", "other")
    assert change["how"]["coverage"] == 0.5
    assert reasons(found)["change_last_year_pct"] == "no_readings"


def test_months_compare_their_mean_per_hour(db_session, vienna_meter):
    # January and February 2024 at 100 Wh an hour: 31 and 29 days, the same use.
    start, end = midnight(date(2024, 1, 1)), midnight(date(2024, 3, 1))
    seed_readings(db_session, vienna_meter, start, end, HOUR, constant(100))
    found = meter_figures(db_session, vienna_meter, MONTH, date(2024, 2, 1))
    assert found["consumption"]["value"] == 696 * 100
    assert found["consumption"]["how"]["last_day"] == "2024-02-29"
    assert found["previous"]["value"] == 744 * 100
    assert found["change_previous_pct"]["value"] == 0.0
    assert (found["baseload"]["value"], found["baseload"]["how"]["nights"]) == (100.0, 29)


def test_daily_readings_give_consumption_but_no_baseload(db_session, vienna_meter):
    for i in range(7):
        day = MONDAY + i * DAY
        seed_readings(
            db_session, vienna_meter, midnight(day), midnight(day + DAY), DAY, constant(1000 + i)
        )
    found = meter_figures(db_session, vienna_meter, WEEK, MONDAY)
    assert found["consumption"]["value"] == 7021.0
    assert found["consumption"]["how"]["readings"] == 7
    assert found["consumption"]["how"]["coverage"] == 1.0
    assert found["weekday_share"]["value"] == round(5010 / 7021 * 100, 1)
    coarse = {"baseload", "baseload_share_pct", "baseload_yearly", "baseload_yearly_cost"}
    coarse |= {"peak_hour", "evening_share_pct"}
    assert {key for key, reason in reasons(found).items() if reason == "coarse_readings"} == coarse


def test_two_nights_are_too_few_for_a_baseload(db_session, vienna_meter):
    start = midnight(MONDAY)
    seed_readings(db_session, vienna_meter, start, start + 2 * DAY, QUARTER, constant(10))
    found = meter_figures(db_session, vienna_meter, WEEK, MONDAY)
    assert found["consumption"]["how"]["coverage"] == round(2 / 7, 4)
    assert found["baseload"]["value"] is None
    assert found["baseload"]["how"]["missing"] == "too_few_nights"
    assert found["baseload"]["how"]["nights"] == 2
    assert found["peak_hour"]["value"] == 0  # all hours alike: the earliest


def test_a_meter_without_readings_has_every_figure_missing(db_session, vienna_meter, tariff):
    found = meter_figures(db_session, vienna_meter, WEEK, MONDAY)
    assert list(found) == list(KEYS)
    assert all(value is None for value in values(found).values())
    missing = reasons(found)
    assert missing["consumption"] == missing["baseload"] == missing["peak_hour"] == "no_readings"
    assert missing["change_previous_pct"] == "no_readings"
    assert missing["baseload_yearly_cost"] == "no_readings"


def test_baseload_cost_needs_a_tariff(db_session, vienna_meter):
    seed_readings(db_session, vienna_meter, *week_of(MONDAY), QUARTER, constant(10))
    found = meter_figures(db_session, vienna_meter, WEEK, MONDAY)
    assert found["baseload_yearly"]["value"] == 40 * 8760
    assert reasons(found)["baseload_yearly_cost"] == "no_tariff"


def test_local_hours_of_a_zone_half_an_hour_off(db_session, energy_resident, make_meter):
    """In Kolkata (UTC+5:30), hours are local hours, not UTC ones."""
    meter = make_meter(energy_resident, timezone="Asia/Kolkata")
    kolkata = ZoneInfo("Asia/Kolkata")

    def pattern(moment: datetime) -> float:
        hour = hour_of(moment, kolkata)
        return 5 if hour == 2 else 30 if hour == 19 else 10

    start = midnight(MONDAY, kolkata)
    seed_readings(db_session, meter, start, start + 7 * DAY, QUARTER, pattern)
    found = meter_figures(db_session, meter, WEEK, MONDAY)
    assert found["consumption"]["how"]["from"] == "2024-03-03T18:30:00+00:00"
    assert found["consumption"]["how"]["coverage"] == 1.0
    assert found["baseload"]["value"] == 20.0  # the hour 02:00 to 03:00 at 5 Wh a quarter
    assert found["peak_hour"]["value"] == 19


# --- heating degree days ----------------------------------------------------------------------

#: ISO week 2 of 2024 and of 2023.
JANUARY = date(2024, 1, 8)
JANUARY_BEFORE = date(2023, 1, 9)


def test_degree_days_count_only_days_colder_than_the_base():
    means = {date(2024, 1, 1): 20.0, date(2024, 1, 2): 10.0, date(2024, 1, 3): -4.5}
    assert heating_degree_days(means, date(2024, 1, 1), date(2024, 1, 3), 15.5) == (25.5, 3)
    # A day without its temperature: none for the period.
    assert heating_degree_days(means, date(2024, 1, 1), date(2024, 1, 4), 15.5) == (None, 3)
    assert heating_degree_days({}, date(2024, 1, 1), date(2024, 1, 7), 15.5) == (None, 0)


def heating_pattern(moment: datetime) -> float:
    """200 Wh an hour from 00:00 to 05:00, 400 otherwise: 8600 Wh a day."""
    return 50 if hour_of(moment) < 5 else 100


@pytest.fixture
def heat_meter(energy_resident, make_meter):
    return make_meter(energy_resident, "district_heat", timezone="Europe/Vienna")


def test_heating_degree_days_normalise_last_years_comparison(db_session, heat_meter, lyon):
    seed_readings(db_session, heat_meter, *week_of(JANUARY), QUARTER, heating_pattern)
    seed_readings(db_session, heat_meter, *week_of(JANUARY_BEFORE), QUARTER, constant(120))
    # 10 degree days a day this year (mean 5.5 °C), 15 last year (0.5 °C).
    seed_temperatures(db_session, lyon.id, JANUARY, [5.5] * 7)
    seed_temperatures(db_session, lyon.id, JANUARY_BEFORE, [0.5] * 7)
    found = meter_figures(db_session, heat_meter, WEEK, JANUARY)
    assert found["consumption"]["value"] == 60200.0
    assert found["last_year"]["value"] == 80640.0
    assert found["change_last_year_pct"]["value"] == round((60200 / 80640 - 1) * 100, 1)
    assert (found["hdd"]["value"], found["hdd_last_year"]["value"]) == (70.0, 105.0)
    assert found["hdd"]["how"]["base_c"] == 15.5
    assert (found["per_hdd"]["value"], found["per_hdd"]["unit"]) == (860.0, "Wh/HDD")
    assert found["per_hdd_last_year"]["value"] == 768.0
    # Less used, but a milder winter: 12 % more per degree day.
    assert found["normalised_change_last_year_pct"]["value"] == round((860 / 768 - 1) * 100, 1)
    # 200 W all week is the baseload: the rest went into heating.
    assert found["baseload"]["value"] == 200.0
    share = (60200 - 200 * 168) / 60200 * 100
    assert found["heating_share_pct"]["value"] == round(share, 1)


def test_a_day_without_temperature_means_no_degree_days(db_session, heat_meter, lyon):
    seed_readings(db_session, heat_meter, *week_of(JANUARY), QUARTER, heating_pattern)
    seed_readings(db_session, heat_meter, *week_of(JANUARY_BEFORE), QUARTER, constant(120))
    seed_temperatures(db_session, lyon.id, JANUARY, [5.5] * 6)  # Sunday is missing
    seed_temperatures(db_session, lyon.id, JANUARY_BEFORE, [0.5] * 7)
    found = meter_figures(db_session, heat_meter, WEEK, JANUARY)
    missing = reasons(found)
    assert missing["hdd"] == missing["per_hdd"] == "no_temperatures"
    assert missing["normalised_change_last_year_pct"] == "no_temperatures"
    assert found["hdd"]["how"]["days_known"] == 6
    assert found["hdd_last_year"]["value"] == 105.0
    assert found["per_hdd_last_year"]["value"] == 768.0


def test_electricity_counts_degree_days_where_it_heats(db_session, vienna_meter, lyon):
    seed_readings(db_session, vienna_meter, *week_of(JANUARY), QUARTER, heating_pattern)
    seed_temperatures(db_session, lyon.id, JANUARY, [5.5] * 7)
    assert reasons(meter_figures(db_session, vienna_meter, WEEK, JANUARY))["hdd"] == "not_heating"
    meters.set_household(db_session, vienna_meter.user, heating_type="heat_pump")
    found = meter_figures(db_session, vienna_meter, WEEK, JANUARY)
    assert (found["hdd"]["value"], found["per_hdd"]["value"]) == (70.0, 860.0)
    assert found["hdd_last_year"]["how"]["missing"] == "no_temperatures"
    assert reasons(found)["normalised_change_last_year_pct"] == "no_temperatures"
    assert found["heating_share_pct"]["value"] == round((60200 - 33600) / 60200 * 100, 1)


# --- many meters at once ----------------------------------------------------------------------


def varied(number: int):
    """Values that differ from meter to meter and hour to hour."""
    return lambda moment: number + moment.hour % (number + 2) + moment.minute / 60


def test_many_meters_at_once_agree_with_one_at_a_time(
    db_session, lyon, make_user, agree, energy_text, make_meter, city_admin, monkeypatch
):
    """50 meters of all kinds, zones and resolutions, in chunks of 7: the same figures."""
    monkeypatch.setattr(figures, "CHUNK", 7)
    set_tariff(db_session, city_admin, lyon, "electricity", "0.25", "EUR")
    set_tariff(db_session, city_admin, lyon, "water", "0.004", "EUR")
    seed_temperatures(db_session, lyon.id, date(2023, 3, 1), [8.0 - i % 9 for i in range(400)])
    kinds = [
        ("electricity", None, "Europe/Vienna"),
        ("district_heat", None, "Europe/Paris"),
        ("gas", "m3", "Europe/Vienna"),
        ("water", None, "Asia/Kolkata"),
        ("electricity", None, "Europe/Paris"),
    ]
    all_meters = []
    for person in range(5):
        user = make_user(lyon)
        agree(user)
        if person == 0:
            meters.set_household(db_session, user, heating_type="electric")
        for number in range(10):
            commodity, unit, zone = kinds[(person + number) % len(kinds)]
            meter = make_meter(user, commodity, unit=unit, timezone=zone)
            all_meters.append(meter)
            start = midnight(date(2024, 2, 20), ZoneInfo(zone)) + number * 7 * QUARTER
            step = DAY if number == 9 else HOUR if number % 3 == 0 else QUARTER
            if number != 8:  # one meter in ten has no readings
                seed_readings(db_session, meter, start, start + 20 * DAY, step, varied(number))
    start, end = temperature_span(WEEK, MONDAY)
    together = figures_for_meters(
        db_session,
        all_meters,
        WEEK,
        MONDAY,
        tariffs=tariffs_of(db_session, lyon.id),
        temperatures=temperatures_of(db_session, lyon.id, start, end),
        households={
            m.user_id: h for m in all_meters if (h := meters.household_of(db_session, m.user))
        },
    )
    alone = {meter.id: meter_figures(db_session, meter, WEEK, MONDAY) for meter in all_meters}
    assert together == alone
    water = next(m for m in all_meters if m.commodity == "water")
    assert together[water.id]["baseload"]["unit"] == "L/h"
    assert together[water.id]["baseload_yearly_cost"]["how"]["per"] == "L"
    gas = next(m for m in all_meters if m.commodity == "gas")
    assert together[gas.id]["baseload"]["unit"] == "m3/h"
    assert together[gas.id]["per_hdd"]["unit"] == "m3/HDD"
    assert sum(f["baseload"]["value"] is not None for f in together.values()) >= 30
