"""My meter's series through the API: exact fields, DST days in the meter's zone, ETag, only
my own meter, and bad periods or resolutions refused with a clear error."""

import pytest

from tests.api.helpers import assert_problem
from tests.energy.series_helpers import local, put, until

SERIES_FIELDS = {
    "meter_id",
    "unit",
    "timezone",
    "resolution",
    "start",
    "end",
    "total",
    "readings",
    "points",
}
POINT_FIELDS = {"start", "end", "hours", "value", "readings", "coverage", "complete", "note"}


@pytest.fixture
def vienna_meter(db_session, energy_resident, make_meter):
    meter = make_meter(energy_resident, timezone="Europe/Vienna")
    put(db_session, meter, until(local("2024-10-26T00:00"), local("2024-10-28T00:00")))
    return meter


def url(meter, query: str) -> str:
    return f"/api/v1/meters/{meter.id}/series?{query}"


def test_days_in_the_meters_zone_with_the_long_day_said(client, energy_headers, vienna_meter):
    answer = client.get(url(vienna_meter, "from=2024-10-26&to=2024-10-28"), headers=energy_headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert set(body) == SERIES_FIELDS
    assert (body["meter_id"], body["unit"], body["timezone"]) == (
        vienna_meter.id,
        "Wh",
        "Europe/Vienna",
    )
    assert (body["resolution"], body["readings"], body["total"]) == ("day", 196, 1960.0)
    assert (body["start"], body["end"]) == (
        "2024-10-26T00:00:00+02:00",
        "2024-10-28T00:00:00+01:00",
    )
    saturday, sunday = body["points"]
    assert set(saturday) == POINT_FIELDS
    assert saturday == {
        "start": "2024-10-26T00:00:00+02:00",
        "end": "2024-10-27T00:00:00+02:00",
        "hours": 24.0,
        "value": 960.0,
        "readings": 96,
        "coverage": 1.0,
        "complete": True,
        "note": None,
    }
    assert (sunday["hours"], sunday["readings"], sunday["complete"]) == (25.0, 100, True)
    assert sunday["note"] == "The clocks went back: this period has 25 hours."


def test_hours_from_local_times_and_an_empty_bucket(client, energy_headers, vienna_meter):
    query = "from=2024-10-27T23:00&to=2024-10-28T02:00&resolution=hour"
    points = client.get(url(vienna_meter, query), headers=energy_headers).get_json()["points"]
    assert [p["start"] for p in points] == [
        "2024-10-27T23:00:00+01:00",
        "2024-10-28T00:00:00+01:00",
        "2024-10-28T01:00:00+01:00",
    ]
    assert [(p["readings"], p["value"]) for p in points] == [(4, 40.0), (0, None), (0, None)]


def test_etag_answers_304_until_readings_change(client, db_session, energy_headers, vienna_meter):
    path = url(vienna_meter, "from=2024-10-01&to=2024-11-01&resolution=week")
    first = client.get(path, headers=energy_headers)
    etag = first.headers["ETag"]
    again = client.get(path, headers={**energy_headers, "If-None-Match": etag})
    assert again.status_code == 304
    put(db_session, vienna_meter, until(local("2024-10-28T00:00"), local("2024-10-29T00:00")))
    changed = client.get(path, headers={**energy_headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_another_persons_meter_is_not_found(client, bearer, lyon, make_user, agree, vienna_meter):
    other = make_user(lyon)
    agree(other)
    query = "from=2024-10-26&to=2024-10-28"
    assert_problem(client.get(url(vienna_meter, query), headers=bearer(other)), 404)
    missing = client.get(f"/api/v1/meters/999999/series?{query}", headers=bearer(other))
    assert_problem(missing, 404)


@pytest.mark.parametrize(
    "query",
    [
        "to=2024-10-28",
        "from=2024-10-26",
        "from=yesterday&to=2024-10-28",
        "from=2024-10-26&to=2024-13-01",
        "from=2024-10-26&to=2024-10-28&resolution=minute",
        "from=2024-10-26&to=2024-10-28&meter=1",
    ],
)
def test_malformed_queries_are_bad_requests(client, energy_headers, vienna_meter, query):
    assert_problem(client.get(url(vienna_meter, query), headers=energy_headers), 400)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2024-10-28&to=2024-10-26", "to", "The end of the period must come after"),
        ("from=2024-01-01&to=2024-12-31&resolution=15min", "to", "more than 5,000 points"),
        ("from=0001-01-01&to=2024-12-31", "from", "Give a year from 1970 to 2199."),
    ],
)
def test_impossible_periods_are_refused(
    client, energy_headers, vienna_meter, query, field, message
):
    body = assert_problem(client.get(url(vienna_meter, query), headers=energy_headers), 422)
    assert message in body["errors"][field][0]


def test_readings_coarser_than_asked_are_refused(
    client, db_session, energy_headers, energy_resident, make_meter
):
    meter = make_meter(energy_resident, timezone="Europe/Vienna")
    put(db_session, meter, until(local("2024-10-01T00:00"), local("2024-10-03T00:00"), 24 * 60))
    query = "from=2024-10-01&to=2024-10-03&resolution=hour"
    body = assert_problem(client.get(url(meter, query), headers=energy_headers), 422)
    assert body["errors"]["resolution"] == [
        "The readings of this period are longer than that: ask for day or coarser."
    ]
    days = client.get(url(meter, "from=2024-10-01&to=2024-10-03"), headers=energy_headers)
    assert [p["value"] for p in days.get_json()["points"]] == [10.0, 10.0]
