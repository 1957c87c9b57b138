"""Comparing with similar households: only with at least ten of them, the median and the 20th
percentile computed by hand, the group relaxed when a fact is unknown, and nothing told of a
group too small."""

import pytest

from energy.feedback import cohort
from energy.feedback.reports import compute_reports
from tests.energy import feedback_world
from tests.energy.feedback_world import WEEK, report_of, seed_days

household = feedback_world.household
pytestmark = pytest.mark.usefixtures("in_app")

#: The households' constant power (W): a week of it is 168 times as many Wh.
POWERS = [100, 110, 120, 130, 140, 150, 160, 170, 180, 190]


def _households(db_session, household, powers, **facts):
    made = []
    for power in powers:
        meter = household(**facts)
        seed_days(db_session, meter, WEEK, 7, float(power))
        made.append(meter)
    return made


def test_ten_similar_households_are_compared(db_session, lyon, household):
    meters = _households(db_session, household, POWERS)
    counts = compute_reports(db_session, lyon, "week", WEEK)
    assert counts == {"meters": 10, "stored": 10}
    first = report_of(db_session, meters[0]).figures["comparison"]
    # Sorted weekly totals are 168 * (100, 110, … 190) Wh: the median lies between the 5th
    # and 6th (145 W), the 20th percentile 0.8 of the way from the 2nd to the 3rd (118 W).
    assert first["value"] == {
        "median": 168 * 145.0,
        "efficient": 168 * 118.0,
        "position": "efficient",
    }
    assert first["unit"] == "Wh"
    how = first["how"]
    assert (how["households"], how["group"], how["people"], how["floor_area_m2"]) == (
        10,
        "people_and_floor_area",
        "2",
        "50-<80",
    )
    positions = [
        report_of(db_session, m).figures["comparison"]["value"]["position"] for m in meters
    ]
    assert positions == ["efficient"] * 2 + ["typical"] * 3 + ["above"] * 5


def test_nine_households_are_too_few_and_their_number_is_not_told(db_session, lyon, household):
    meters = _households(db_session, household, POWERS[:9])
    compute_reports(db_session, lyon, "week", WEEK)
    comparison = report_of(db_session, meters[0]).figures["comparison"]
    assert comparison["value"] is None
    assert comparison["how"]["missing"] == "group_too_small"
    assert "households" not in comparison["how"]
    assert comparison["how"]["minimum"] == 10


def test_households_of_another_size_or_with_a_short_week_are_left_out(db_session, lyon, household):
    meters = _households(db_session, household, POWERS[:9])
    # A bigger household, and a similar one with readings for five days of seven.
    _households(db_session, household, [150], people=4)
    short = household()
    seed_days(db_session, short, WEEK, 5, 150.0)
    compute_reports(db_session, lyon, "week", WEEK)
    assert report_of(db_session, meters[0]).figures["comparison"]["value"] is None
    assert report_of(db_session, short).figures["comparison"]["how"]["missing"] == "low_coverage"


def test_an_unknown_fact_relaxes_the_group_to_the_known_one(db_session, lyon, household):
    # Ten households of two people, of every size of home; one of them does not tell its area.
    small = _households(db_session, household, POWERS[:5], area=40.0)
    _households(db_session, household, POWERS[5:9], area=130.0)
    unsure = _households(db_session, household, [200], area=None)[0]
    compute_reports(db_session, lyon, "week", WEEK)
    comparison = report_of(db_session, unsure).figures["comparison"]
    assert comparison["how"]["group"] == "people"
    assert comparison["how"]["households"] == 10
    assert comparison["value"]["position"] == "above"
    # Those telling both facts are compared with their like only: five are too few.
    known = report_of(db_session, small[0]).figures["comparison"]
    assert (known["how"]["group"], known["value"]) == ("people_and_floor_area", None)


def test_without_any_fact_the_whole_commodity_is_the_group(db_session, lyon, household):
    _households(db_session, household, POWERS[:9], people=3, area=100.0)
    nothing_told = _households(db_session, household, [100], people=None, area=None)[0]
    compute_reports(db_session, lyon, "week", WEEK)
    comparison = report_of(db_session, nothing_told).figures["comparison"]
    assert (comparison["how"]["group"], comparison["how"]["households"]) == ("commodity", 10)


def test_percentiles_interpolate_between_ranks():
    assert cohort.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.2) == pytest.approx(1.8)
    assert cohort.percentile([7.0], 0.2) == 7.0
    assert [cohort.people_band(n) for n in (1, 2, 4, 5, 9, None)] == [
        "1",
        "2",
        "4",
        "5+",
        "5+",
        None,
    ]
    assert [cohort.area_band(a) for a in (49.9, 50, 79.9, 80, 120, None)] == [
        "<50",
        "50-<80",
        "50-<80",
        "80-<120",
        "120+",
        None,
    ]
