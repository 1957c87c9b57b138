"""My household facts and meters through the API: nothing stored before consent, facts within
their bounds, only my own meters, and fields nobody may set refused."""

import pytest

from energy.models import Household, Meter, Reading
from tests.api.energy_helpers import (
    count,
    upload,
)
from tests.api.helpers import assert_problem

METER_FIELDS = {"id", "commodity", "unit", "timezone", "label", "created_at", "updated_at"}


# --- consent first --------------------------------------------------------------------------


def test_nothing_is_stored_before_consent(client, db_session, bearer, resident, energy_text):
    headers = bearer(resident)
    made = client.post("/api/v1/meters", json={"commodity": "electricity"}, headers=headers)
    assert_problem(made, 409, "consent-required")
    facts = client.put("/api/v1/me/household", json={"people": 2}, headers=headers)
    assert_problem(facts, 409, "consent-required")
    assert (count(db_session, Meter), count(db_session, Household)) == (0, 0)
    assert client.get("/api/v1/meters", headers=headers).get_json() == []


# --- household ------------------------------------------------------------------------------


def test_household_facts(client, db_session, energy_headers):
    empty = client.get("/api/v1/me/household", headers=energy_headers)
    assert empty.status_code == 200
    assert empty.get_json() == {
        "people": None,
        "floor_area_m2": None,
        "dwelling_type": None,
        "heating_type": None,
        "district": None,
        "campaign": None,
        "joined_on": None,
        "goal_percent": None,
        "updated_at": None,
    }
    facts = {"people": 3, "floor_area_m2": 72.5, "dwelling_type": "apartment"}
    answer = client.put("/api/v1/me/household", json=facts, headers=energy_headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert {k: body[k] for k in facts} == facts
    assert body["heating_type"] is None
    assert client.get("/api/v1/me/household", headers=energy_headers).get_json() == body
    # A PUT says everything: what it leaves out becomes unknown.
    client.put("/api/v1/me/household", json={"heating_type": "heat_pump"}, headers=energy_headers)
    body = client.get("/api/v1/me/household", headers=energy_headers).get_json()
    assert (body["people"], body["heating_type"]) == (None, "heat_pump")


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        ({"people": 0}, "people"),
        ({"people": 21}, "people"),
        ({"people": "2"}, "people"),
        ({"floor_area_m2": 4.9}, "floor_area_m2"),
        ({"floor_area_m2": 2001}, "floor_area_m2"),
        ({"dwelling_type": "castle"}, "dwelling_type"),
        ({"heating_type": "coal"}, "heating_type"),
        ({"user_id": 1}, "user_id"),
        ({"city_id": 1}, "city_id"),
    ],
)
def test_household_facts_out_of_bounds_are_refused(
    client, db_session, energy_headers, facts, field
):
    body = assert_problem(
        client.put("/api/v1/me/household", json=facts, headers=energy_headers), 422
    )
    assert field in body["errors"]
    assert count(db_session, Household) == 0


# --- meters ---------------------------------------------------------------------------------


def test_my_meters(client, db_session, energy_headers, energy_resident):
    made = client.post(
        "/api/v1/meters", json={"commodity": "electricity", "label": "Flat"}, headers=energy_headers
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    body = made.get_json()
    assert set(body) == METER_FIELDS
    assert (body["commodity"], body["unit"], body["timezone"], body["label"]) == (
        "electricity",
        "Wh",
        "Europe/Paris",
        "Flat",
    )
    water = client.post(
        "/api/v1/meters",
        json={"commodity": "water", "timezone": "Europe/Vienna"},
        headers=energy_headers,
    ).get_json()
    assert (water["unit"], water["timezone"]) == ("L", "Europe/Vienna")
    listed = client.get("/api/v1/meters", headers=energy_headers).get_json()
    assert [m["id"] for m in listed] == [body["id"], water["id"]]
    one = client.get(f"/api/v1/meters/{body['id']}", headers=energy_headers)
    assert one.get_json() == body
    changed = client.patch(
        f"/api/v1/meters/{body['id']}", json={"label": "Kitchen"}, headers=energy_headers
    )
    assert changed.status_code == 200
    assert changed.get_json()["label"] == "Kitchen"
    assert client.delete(f"/api/v1/meters/{body['id']}", headers=energy_headers).status_code == 204
    assert_problem(client.get(f"/api/v1/meters/{body['id']}", headers=energy_headers), 404)
    assert count(db_session, Meter) == 1


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"commodity": "coal"}, "commodity"),
        ({"commodity": "water", "unit": "Wh"}, "unit"),
        ({"commodity": "electricity", "timezone": "Mars/Olympus"}, "timezone"),
        ({"commodity": "electricity", "user_id": 1}, "user_id"),
        ({"commodity": "electricity", "city_id": 2}, "city_id"),
        ({"commodity": "electricity", "id": 7}, "id"),
    ],
)
def test_a_meter_that_cannot_be_is_refused(client, db_session, energy_headers, values, field):
    body = assert_problem(client.post("/api/v1/meters", json=values, headers=energy_headers), 422)
    assert field in body["errors"]
    assert count(db_session, Meter) == 0


@pytest.mark.parametrize("values", [{"user_id": 1}, {"label": "x", "city_id": 2}, {"id": 9}])
def test_changing_what_nobody_may_is_refused(client, db_session, energy_headers, meter, values):
    assert_problem(
        client.patch(f"/api/v1/meters/{meter.id}", json=values, headers=energy_headers), 422
    )
    db_session.refresh(meter)
    assert meter.label == "Appartement"


def test_the_unit_stays_once_readings_are_stored(client, energy_headers, meter, greenbutton):
    url = f"/api/v1/meters/{meter.id}"
    upload(client, url + "/imports", energy_headers, greenbutton("test_usage_data_01.xml"))
    body = assert_problem(
        client.patch(url, json={"commodity": "gas", "unit": "m3"}, headers=energy_headers), 422
    )
    assert set(body["errors"]) <= {"commodity", "unit"}


def test_another_residents_meter_does_not_exist_for_me(
    client, db_session, bearer, lyon, make_user, agree, meter, greenbutton
):
    neighbour = make_user(lyon)
    agree(neighbour)
    headers = bearer(neighbour)
    url = f"/api/v1/meters/{meter.id}"
    missing = f"/api/v1/meters/{meter.id + 1000}"
    for path in (url, missing):
        assert_problem(client.get(path, headers=headers), 404)
        assert_problem(client.patch(path, json={"label": "Mine"}, headers=headers), 404)
        assert_problem(client.delete(path, headers=headers), 404)
        assert_problem(client.get(path + "/imports", headers=headers), 404)
        sent = upload(client, path + "/imports", headers, greenbutton("test_usage_data_01.xml"))
        assert_problem(sent, 404)
    assert client.get("/api/v1/meters", headers=headers).get_json() == []
    assert (count(db_session, Meter), count(db_session, Reading)) == (1, 0)
    db_session.refresh(meter)
    assert meter.label == "Appartement"


def test_lists_answer_304_when_unchanged(client, energy_headers, meter):
    first = client.get("/api/v1/meters", headers=energy_headers)
    again = client.get(
        "/api/v1/meters", headers={**energy_headers, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    assert first.headers["Cache-Control"] == "no-store"
