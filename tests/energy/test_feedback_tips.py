"""Tips: each rule fires on its pattern with the numbers that made it fire, and not otherwise;
at most three, the largest saving first; shown in the reader's language with its numbers."""

from datetime import date

import pytest
from flask_babel import force_locale

from app.errors import Invalid
from energy.feedback.reports import compute_reports
from energy.feedback.tips import choose_tips, render_tip
from tests.energy import feedback_world
from tests.energy.feedback_world import WEEK, report_of, seed_days

household = feedback_world.household
pytestmark = pytest.mark.usefixtures("in_app")

WINTER = (date(2026, 11, 16), date(2026, 11, 22))
SUMMER = (date(2026, 7, 6), date(2026, 7, 12))


def fig(value, unit="%", **how):
    return {"value": value, "unit": unit, "how": how}


def figures(**values) -> dict:
    """An electricity week of 100 kWh with nothing remarkable, but for ``values``."""
    found = {
        "consumption": fig(100_000.0, "Wh", coverage=1.0),
        "baseload": fig(100.0, "W", minima={"2026-11-16": 90.0}),
        "baseload_share_pct": fig(16.8),
        "baseload_yearly_cost": fig(219.0, "EUR"),
        "evening_share_pct": fig(20.0),
        "heating_share_pct": fig(None, reason="not_heating"),
        "change_last_year_pct": fig(2.0),
        "normalised_change_last_year_pct": fig(None),
        "hdd": fig(None, "HDD"),
    }
    for key, value in values.items():
        found[key] = value if isinstance(value, dict) else fig(value, found[key]["unit"])
    return found


def codes(commodity, found, period=WINTER, cohort=None):
    return [tip["code"] for tip in choose_tips(commodity, found, *period, cohort)]


def test_nothing_remarkable_gives_no_tip():
    assert codes("electricity", figures()) == []
    assert codes("district_heat", figures(heating_share_pct=60.0)) == []
    assert codes("water", figures(baseload=fig(0.5, "L/h", minima={"a": 0.4, "b": 0.0}))) == []


def test_a_high_baseload_share_gives_the_standby_tip_with_its_reason():
    [tip] = choose_tips("electricity", figures(baseload_share_pct=30.0), *WINTER)
    assert tip["code"] == "standby"
    assert tip["reason"] == {
        "baseload": 100.0,
        "unit": "W",
        "share_pct": 30.0,
        "yearly_cost": 219.0,
        "currency": "EUR",
    }
    # A quarter of 100 W over the week's 168 hours.
    assert tip["saving"] == 4200.0
    with force_locale("de"):
        shown = render_tip(tip)
    assert "100\N{NO-BREAK SPACE}W" in shown["reason"]
    assert "30\N{NO-BREAK SPACE}%" in shown["reason"]
    assert "219,00\N{NO-BREAK SPACE}€" in shown["reason"]
    assert shown["title"] and shown["body"]


def test_a_baseload_above_similar_households_gives_the_standby_tip():
    assert codes("electricity", figures(), cohort=80.0) == []
    [tip] = choose_tips("electricity", figures(), *WINTER, 76.0)
    assert (tip["code"], tip["reason"]["cohort_median"]) == ("standby", 76.0)
    assert tip["saving"] == (100.0 - 76.0) * 168
    with force_locale("en"):
        assert "76 W" in render_tip(tip)["reason"].replace("\N{NO-BREAK SPACE}", " ")


def test_an_evening_peak_gives_the_shifting_tip():
    assert codes("electricity", figures(evening_share_pct=34.9)) == []
    [tip] = choose_tips("electricity", figures(evening_share_pct=40.0), *WINTER)
    assert (tip["code"], tip["reason"]) == ("evening", {"share_pct": 40.0})
    with force_locale("fr"):
        assert render_tip(tip)["reason"].startswith("40\N{NO-BREAK SPACE}%")
    # Heat has no evening tip.
    assert codes("district_heat", figures(evening_share_pct=40.0)) == []


def test_a_high_heating_share_in_the_heating_season_gives_the_thermostat_tip():
    heat = figures(heating_share_pct=75.0)
    [tip] = choose_tips("gas", heat, *WINTER)
    assert (tip["code"], tip["reason"]) == ("heating", {"heating_share_pct": 75.0})
    assert codes("gas", heat, SUMMER) == []
    # Known degree days decide the season: a mild November week is not heating season.
    assert codes("gas", figures(heating_share_pct=75.0, hdd=fig(7.0, "HDD"))) == []
    assert codes("electricity", heat) == []


def test_more_per_degree_day_than_last_year_gives_the_thermostat_tip():
    worse = figures(normalised_change_last_year_pct=12.0)
    [tip] = choose_tips("district_heat", worse, *SUMMER)
    assert (tip["code"], tip["reason"]) == ("heating", {"per_hdd_change_pct": 12.0})
    assert codes("district_heat", figures(normalised_change_last_year_pct=9.9)) == []


def test_a_rise_against_last_year_asks_what_changed():
    assert codes("electricity", figures(change_last_year_pct=14.9)) == []
    [tip] = choose_tips("electricity", figures(change_last_year_pct=25.0), *WINTER)
    assert (tip["code"], tip["reason"]) == ("what_changed", {"change_pct": 25.0})
    assert tip["saving"] == 20_000.0  # 100 kWh is 125 % of last year's 80
    # Colder than last year: per degree day nothing changed.
    weather = figures(change_last_year_pct=25.0, normalised_change_last_year_pct=1.0)
    assert codes("gas", weather) == []


def test_water_running_every_night_gives_the_leak_tip():
    flowing = fig(1.5, "L/h", minima={"2026-11-16": 1.2, "2026-11-17": 1.5, "2026-11-18": 2.0})
    [tip] = choose_tips("water", figures(baseload=flowing), *WINTER)
    assert (tip["code"], tip["reason"]) == ("leak", {"flow": 1.2, "unit": "L/h", "nights": 3})
    with force_locale("de"):
        assert "1,2\N{NO-BREAK SPACE}L/h" in render_tip(tip)["reason"]


def test_at_most_three_tips_the_largest_saving_first():
    many = figures(baseload_share_pct=40.0, evening_share_pct=50.0, change_last_year_pct=100.0)
    assert codes("electricity", many) == ["what_changed", "evening", "standby"]


def test_a_stored_report_holds_its_tips(db_session, lyon, household):
    meter = household()
    # 300 W always on, and 2.7 kWh more each evening from 17:00 to 20:00.
    seed_days(db_session, meter, WEEK, 7, lambda t: 1200.0 if 16 <= t.hour < 19 else 300.0)
    compute_reports(db_session, lyon, "week", WEEK)
    tips = report_of(db_session, meter).tips
    assert [tip["code"] for tip in tips] == ["standby", "evening"]
    assert tips[0]["reason"]["baseload"] == 300.0


def test_unknown_periods_are_refused(db_session, lyon):
    with pytest.raises(Invalid) as refused:
        compute_reports(db_session, lyon, "week", date(2026, 11, 17))
    assert "starts_on" in refused.value.errors
