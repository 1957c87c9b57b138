"""My energy feedback through the API: a report's figures with how each was computed and its
tips in my language, computed live when none is stored, only for my own meters and with my
consent; the period checked (400, translated); my district, campaign and goal."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from app.models import City
from campaigns import service
from energy.feedback.reports import compute_reports
from energy.models import FeedbackReport, Household, MeterImport
from tests.api.energy_helpers import count
from tests.api.helpers import assert_problem
from tests.energy import feedback_world
from tests.energy.feedback_world import WEEK, seed_days

household = feedback_world.household

URL = "/api/v1/meters/{}/feedback"
#: Thursday 26 November 2026, noon in Lyon: the last complete week is that of the 16th.
THURSDAY = datetime(2026, 11, 26, 11, tzinfo=UTC)
FIGURE_KEYS = {
    "consumption",
    "previous",
    "change_previous_pct",
    "last_year",
    "change_last_year_pct",
    "baseload",
    "baseload_share_pct",
    "baseload_yearly",
    "baseload_yearly_cost",
    "peak_hour",
    "evening_share_pct",
    "weekday_share",
    "hdd",
    "hdd_last_year",
    "per_hdd",
    "per_hdd_last_year",
    "normalised_change_last_year_pct",
    "heating_share_pct",
    "comparison",
    "expected",
    "saving",
    "saving_pct",
    "savings_since_joining",
    "goal_progress",
}


@pytest.fixture
def mine(app, db_session, household, bearer):
    """My meter with a week of 300 W always on, and my headers (answers in German)."""
    meter = household()
    seed_days(db_session, meter, WEEK, 7, 300.0)
    db_session.commit()
    return meter, bearer(meter.user, **{"Accept-Language": "de"})


def _stored(app, db_session, city):
    """The week's reports computed as the job does, and committed."""
    db_session.commit()
    with app.app_context():
        session = db_session()
        compute_reports(session, session.get(City, city.id), "week", WEEK)
        session.commit()


def test_a_stored_report_with_every_figure_and_translated_tips(
    app, client, db_session, lyon, mine, translate
):
    meter, headers = mine
    _stored(app, db_session, lyon)
    answer = client.get(URL.format(meter.id) + "?period=week&starts_on=2026-11-16", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert {k: body[k] for k in ("meter_id", "period", "starts_on", "ends_on", "unit")} == {
        "meter_id": meter.id,
        "period": "week",
        "starts_on": "2026-11-16",
        "ends_on": "2026-11-22",
        "unit": "Wh",
    }
    assert (body["stored"], body["timezone"]) == (True, "Europe/Paris")
    assert body["computed_at"] is not None
    assert set(body["figures"]) == FIGURE_KEYS
    consumption = body["figures"]["consumption"]
    assert (consumption["value"], consumption["unit"]) == (300.0 * 168, "Wh")
    assert consumption["how"]["readings"] == 168
    assert consumption["how"]["coverage"] == 1.0
    assert body["figures"]["baseload"]["value"] == 300.0
    assert body["figures"]["comparison"]["how"]["missing"] == "group_too_small"
    [tip] = body["tips"]
    assert tip["code"] == "standby"
    assert tip["title"] == translate("de", "Switch off what stays on")
    assert "300\N{NO-BREAK SPACE}W" in tip["reason"]
    assert tip["saving"] > 0


def test_without_a_stored_report_it_is_computed_and_not_stored(client, db_session, mine):
    meter, headers = mine
    with time_machine.travel(THURSDAY):
        answer = client.get(URL.format(meter.id), headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert (body["starts_on"], body["stored"], body["computed_at"]) == ("2026-11-16", False, None)
    assert body["figures"]["consumption"]["value"] == 300.0 * 168
    assert count(db_session, FeedbackReport) == 0


def test_new_data_after_a_report_is_computed_live(app, client, db_session, lyon, mine):
    meter, headers = mine
    _stored(app, db_session, lyon)
    assert client.get(URL.format(meter.id) + "?starts_on=2026-11-16", headers=headers).json[
        "stored"
    ]
    db_session.add(
        MeterImport(
            meter_id=meter.id,
            user_id=meter.user_id,
            city_id=lyon.id,
            kind="csv",
            content_sha256="0" * 64,
        )
    )
    db_session.commit()
    again = client.get(URL.format(meter.id) + "?starts_on=2026-11-16", headers=headers)
    assert again.json["stored"] is False


def test_a_month(client, db_session, mine):
    meter, headers = mine
    seed_days(db_session, meter, date(2026, 10, 5), 7, 100.0)
    db_session.commit()
    answer = client.get(
        URL.format(meter.id) + "?period=month&starts_on=2026-10-01", headers=headers
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert (answer.json["ends_on"], answer.json["figures"]["consumption"]["value"]) == (
        "2026-10-31",
        100.0 * 168,
    )
    assert answer.json["figures"]["consumption"]["how"]["coverage"] == round(168 / 745, 4)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?period=year", None),
        ("?starts_on=2026-11-17", "A week starts on a Monday."),
        ("?period=month&starts_on=2026-11-16", "A month starts on its first day."),
        ("?starts_on=16.11.2026", None),
        ("?starts_on=2026-11-23", "Feedback is given for weeks and months that have ended."),
        ("?starts_on=2026-11-16&colour=red", None),
    ],
)
def test_a_bad_period_is_a_translated_400(client, mine, translate, query, message):
    meter, headers = mine
    with time_machine.travel(THURSDAY):
        body = assert_problem(client.get(URL.format(meter.id) + query, headers=headers), 400)
    assert body["errors"]
    if message is not None:
        assert body["errors"]["starts_on"] == [translate("de", message)]


def test_only_my_own_meters_and_only_with_my_consent(
    client, db_session, lyon, mine, household, bearer
):
    meter, headers = mine
    other = household()
    db_session.commit()
    assert_problem(client.get(URL.format(other.id), headers=headers), 404)
    assert_problem(client.get(URL.format(999999), headers=headers), 404)
    withdrawn = client.delete(
        "/api/v1/consents/energy_feedback?confirm=delete-readings", headers=headers
    )
    assert withdrawn.status_code == 204
    assert_problem(client.get(URL.format(meter.id), headers=headers), 409, "consent-required")
    assert_problem(client.get("/api/v1/me/energy-feedback", headers=headers), 409)


def test_withdrawing_deletes_the_reports(app, client, db_session, lyon, mine, household):
    meter, headers = mine
    seed_days(db_session, household(), WEEK, 7, 100.0)
    _stored(app, db_session, lyon)
    assert count(db_session, FeedbackReport) == 2
    client.delete("/api/v1/consents/energy_feedback?confirm=delete-readings", headers=headers)
    left = db_session.scalars(sa.select(FeedbackReport.user_id)).all()
    assert left != [] and meter.user_id not in left


def test_my_feedback_and_goal(app, client, db_session, lyon, campaign, mine):
    meter, headers = mine
    empty = client.get("/api/v1/me/energy-feedback", headers=headers)
    assert empty.status_code == 200, empty.get_data(as_text=True)
    assert empty.json["goal"] is None
    [only] = empty.json["meters"]
    assert (only["meter_id"], only["latest"], only["savings_since_joining"]) == (
        meter.id,
        None,
        None,
    )
    assert only["goal_progress"]["how"]["missing"] == "not_joined"
    _stored(app, db_session, lyon)
    goal = client.put("/api/v1/me/energy-goal", json={"percent": 10}, headers=headers)
    assert goal.status_code == 200, goal.get_data(as_text=True)
    assert goal.json["percent"] == 10.0
    again = client.put("/api/v1/me/energy-goal", json={"percent": 10}, headers=headers)
    assert again.json == goal.json
    body = client.get("/api/v1/me/energy-feedback", headers=headers).json
    assert body["goal"] == goal.json
    assert body["meters"][0]["latest"]["starts_on"] == "2026-11-16"
    assert body["meters"][0]["latest"]["tips"][0]["code"] == "standby"
    assert client.delete("/api/v1/me/energy-goal", headers=headers).status_code == 204
    assert client.delete("/api/v1/me/energy-goal", headers=headers).status_code == 204
    assert client.get("/api/v1/me/energy-feedback", headers=headers).json["goal"] is None


@pytest.mark.parametrize("percent", [0, 51, 50.5, "ten", None, True])
def test_a_goal_out_of_bounds_is_refused(client, db_session, mine, percent):
    _meter, headers = mine
    body = assert_problem(
        client.put("/api/v1/me/energy-goal", json={"percent": percent}, headers=headers), 422
    )
    assert "percent" in body["errors"]
    assert db_session.scalar(sa.select(Household.goal_percent)) is None


def test_joining_a_campaign_and_a_district(client, db_session, lyon, campaign, mine):
    _meter, headers = mine
    lyon.districts = ["Croix-Rousse", "Part-Dieu"]
    db_session.commit()
    facts = {"people": 2, "district": "Croix-Rousse", "campaign": campaign.slug}
    # 23:30 in UTC is already the next day in Lyon.
    with time_machine.travel(datetime(2026, 11, 26, 23, 30, tzinfo=UTC)):
        answer = client.put("/api/v1/me/household", json=facts, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.json
    assert (body["district"], body["campaign"], body["joined_on"]) == (
        "Croix-Rousse",
        campaign.slug,
        "2026-11-27",
    )
    # The same campaign again: joined on the same day still.
    later = client.put("/api/v1/me/household", json=facts, headers=headers).json
    assert later["joined_on"] == "2026-11-27"
    assert client.get("/api/v1/me/household", headers=headers).json == later
    left = client.put("/api/v1/me/household", json={"people": 2}, headers=headers).json
    assert (left["campaign"], left["joined_on"], left["district"]) == (None, None, None)


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        ({"district": "Atlantis"}, "district"),
        ({"campaign": "no-such-campaign"}, "campaign"),
        ({"campaign": ""}, "campaign"),
    ],
)
def test_unknown_districts_and_campaigns_are_refused(
    client, db_session, lyon, campaign, mine, facts, field
):
    _meter, headers = mine
    lyon.districts = ["Croix-Rousse"]
    db_session.commit()
    body = assert_problem(client.put("/api/v1/me/household", json=facts, headers=headers), 422)
    assert field in body["errors"]
    assert db_session.scalar(sa.select(Household.campaign_id)) is None


def test_a_city_without_districts_takes_none(client, db_session, mine):
    _meter, headers = mine
    answer = client.put("/api/v1/me/household", json={"district": "Centre"}, headers=headers)
    assert "district" in assert_problem(answer, 422)["errors"]


def test_a_draft_campaign_cannot_be_joined(client, db_session, lyon, moderator, mine):
    _meter, headers = mine
    draft = service.create_campaign(db_session, moderator, lyon, slug="soon", title={"fr": "B"})
    db_session.commit()
    answer = client.put("/api/v1/me/household", json={"campaign": draft.slug}, headers=headers)
    assert "campaign" in assert_problem(answer, 422)["errors"]
