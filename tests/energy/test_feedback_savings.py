"""Savings against the household's own baseline since joining the campaign, and the goal."""

from datetime import UTC, date, datetime, timedelta

import pytest

from app.errors import Invalid
from energy import meters
from energy.feedback.participation import set_goal
from energy.feedback.reports import compute_reports
from tests.energy import feedback_world
from tests.energy.feedback_helpers import seed_temperatures
from tests.energy.feedback_world import report_of, seed_days

household = feedback_world.household
pytestmark = pytest.mark.usefixtures("in_app")

JOINED = date(2026, 11, 2)  # a Monday
WEEKS = [JOINED, JOINED + timedelta(days=7), JOINED + timedelta(days=14)]
#: Midday in Lyon on the day of joining.
JOINING = datetime(2026, 11, 2, 11, tzinfo=UTC)


def _join(db_session, meter, campaign, goal=None):
    meters.set_household(db_session, meter.user, now=JOINING, campaign=campaign.slug)
    if goal is not None:
        set_goal(db_session, meter.user, goal)


def _figures(db_session, lyon, meter, starts_on):
    compute_reports(db_session, lyon, "week", starts_on)
    return report_of(db_session, meter, starts_on).figures


def test_savings_against_the_four_weeks_before_joining(db_session, lyon, household, campaign):
    meter = household()
    _join(db_session, meter, campaign, goal=10)
    # 200 W for the 28 days before joining (the clocks go back on 25 October: 673 hours);
    # then two weeks at 180 W and one at 150 W.
    seed_days(db_session, meter, JOINED - timedelta(days=28), 28, 200.0)
    seed_days(db_session, meter, JOINED, 14, 180.0)
    seed_days(db_session, meter, WEEKS[2], 7, 150.0)
    for week in WEEKS[:2]:
        compute_reports(db_session, lyon, "week", week)
    figures = _figures(db_session, lyon, meter, WEEKS[2])
    # 200 W is 4.8 kWh a day: 33.6 kWh expected in a week, 25.2 used.
    assert figures["expected"]["value"] == 33600.0
    assert figures["expected"]["how"]["method"] == "baseline_per_day"
    assert figures["expected"]["how"]["baseline_window"] == "before_joining"
    assert figures["expected"]["how"]["baseline_from"] == "2026-10-05"
    assert figures["saving"]["value"] == 8400.0
    assert figures["saving_pct"]["value"] == 25.0
    assert report_of(db_session, meter, WEEKS[2]).saving == pytest.approx(8400.0)
    # 3.36 kWh saved in each of the first two weeks, 8.4 in the third: 15 % of 100.8 kWh.
    since = figures["savings_since_joining"]
    assert since["value"] == 15120.0
    assert (since["how"]["weeks"], since["how"]["pct"], since["how"]["since"]) == (
        3,
        15.0,
        "2026-11-02",
    )
    # 15 % saved of a 10 % goal: 150 % of the way.
    assert figures["goal_progress"]["value"] == 150.0
    assert figures["goal_progress"]["how"]["goal_percent"] == 10.0


def test_without_history_the_first_four_weeks_are_the_baseline(
    db_session, lyon, household, campaign
):
    meter = household()
    _join(db_session, meter, campaign)
    seed_days(db_session, meter, JOINED, 14, 160.0)
    seed_days(db_session, meter, WEEKS[2], 7, 120.0)
    seed_days(db_session, meter, WEEKS[2] + timedelta(days=7), 7, 160.0)
    figures = _figures(db_session, lyon, meter, WEEKS[2])
    # The 28 days from joining average 150 W: 25.2 kWh a week, of which 20.16 were used.
    assert figures["expected"]["how"]["baseline_window"] == "after_joining"
    assert figures["expected"]["value"] == 25200.0
    assert figures["saving"]["value"] == 5040.0
    assert figures["goal_progress"]["how"]["missing"] == "no_goal"


def test_weeks_before_joining_and_households_not_joined_have_no_savings(
    db_session, lyon, household, campaign
):
    joined, other = household(), household()
    _join(db_session, joined, campaign)
    for meter in (joined, other):
        seed_days(db_session, meter, JOINED - timedelta(days=35), 63, 150.0)
    before = _figures(db_session, lyon, joined, JOINED - timedelta(days=7))
    assert before["saving"]["how"]["missing"] == "before_joining"
    assert report_of(db_session, joined, JOINED - timedelta(days=7)).saving is None
    figures = report_of(db_session, other, JOINED - timedelta(days=7)).figures
    for key in ("expected", "saving", "saving_pct", "savings_since_joining", "goal_progress"):
        assert figures[key]["value"] is None
        assert figures[key]["how"]["missing"] == "not_joined"
    # The same use as before joining: nothing saved, nothing lost.
    assert _figures(db_session, lyon, joined, WEEKS[2])["saving"]["value"] == 0.0


def test_too_few_readings_make_no_baseline(db_session, lyon, household, campaign):
    meter = household()
    _join(db_session, meter, campaign, goal=5)
    seed_days(db_session, meter, JOINED - timedelta(days=10), 10, 150.0)
    seed_days(db_session, meter, WEEKS[2], 7, 150.0)
    figures = _figures(db_session, lyon, meter, WEEKS[2])
    assert figures["saving"]["how"]["missing"] == "no_baseline"
    assert figures["goal_progress"]["how"]["missing"] == "no_baseline"


def test_using_more_than_the_baseline_is_a_negative_saving_and_no_progress(
    db_session, lyon, household, campaign
):
    meter = household()
    _join(db_session, meter, campaign, goal=10)
    seed_days(db_session, meter, JOINED - timedelta(days=28), 28, 100.0)
    seed_days(db_session, meter, WEEKS[2], 7, 125.0)
    figures = _figures(db_session, lyon, meter, WEEKS[2])
    assert figures["saving"]["value"] == -4200.0
    assert figures["saving_pct"]["value"] == -25.0
    assert figures["goal_progress"]["value"] == 0.0


def test_heating_is_expected_per_degree_day(db_session, lyon, household, campaign):
    meter = household(commodity="gas")
    _join(db_session, meter, campaign)
    # 5.5 °C before joining (10 degree days a day), 0.5 °C in the week (15 a day).
    start = JOINED - timedelta(days=28)
    seed_temperatures(db_session, lyon.id, start, [5.5] * 42 + [0.5] * 7)
    seed_days(db_session, meter, start, 28, 1000.0)
    seed_days(db_session, meter, WEEKS[2], 7, 1200.0)
    figures = _figures(db_session, lyon, meter, WEEKS[2])
    # 673 kWh (the clocks go back on 25 October) over 280 degree days; the week has 105.
    per_hdd = 673 * 1000.0 / 280
    expected = figures["expected"]
    assert expected["how"]["method"] == "baseline_per_hdd"
    assert expected["how"]["per_hdd"] == round(per_hdd, 4)
    assert expected["value"] == pytest.approx(per_hdd * 105, abs=0.05)
    assert figures["saving"]["value"] == pytest.approx(per_hdd * 105 - 1200.0 * 168, abs=0.05)


def test_the_goal_is_checked_and_kept_once_set(db_session, energy_resident):
    household = set_goal(db_session, energy_resident, 10)
    first = household.goal_set_at
    assert set_goal(db_session, energy_resident, 10.0).goal_set_at == first
    with pytest.raises(Invalid) as refused:
        set_goal(db_session, energy_resident, 51)
    assert "percent" in refused.value.errors
