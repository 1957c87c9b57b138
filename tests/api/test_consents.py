"""My consents through the API: reading my city's text, agreeing to its current version, a new
version asking again, and withdrawing (the energy consent only after a warning, then with my
readings)."""

import pytest

from app import consent
from app.consent_models import Consent, Purpose
from energy.models import Meter, MeterImport, Reading
from tests.api.energy_helpers import count, upload
from tests.api.helpers import assert_problem
from tests.energy.fixtures import ENERGY_TEXT

URL = "/api/v1/consents/energy_feedback"
CONSENT_FIELDS = {
    "purpose",
    "text",
    "consent",
    "consented",
    "ask_again",
    "readings_held",
}


@pytest.fixture
def signed(bearer, resident):
    return bearer(resident)


def test_no_published_text_is_not_found(client, signed):
    assert_problem(client.get(URL, headers=signed), 404)
    assert_problem(client.put(URL, json={"version": 1}, headers=signed), 404)


def test_an_unknown_purpose_is_not_found(client, signed, energy_text):
    assert_problem(client.get("/api/v1/consents/marketing", headers=signed), 404)


def test_the_text_in_my_language_and_nothing_given_yet(client, bearer, resident, energy_text):
    answer = client.get(URL, headers=bearer(resident, **{"Accept-Language": "en"}))
    assert answer.status_code == 200
    body = answer.get_json()
    assert set(body) == CONSENT_FIELDS
    assert body["purpose"] == "energy_feedback"
    assert body["text"]["version"] == 1
    assert body["text"]["text"] == ENERGY_TEXT["en"]
    assert body["text"]["language"] == "en"
    assert body["consent"] is None
    assert (body["consented"], body["ask_again"], body["readings_held"]) == (False, False, 0)
    french = client.get(URL, headers=bearer(resident, **{"Accept-Language": "fr"})).get_json()
    assert (french["text"]["text"], french["text"]["language"]) == (ENERGY_TEXT["fr"], "fr")


def test_agreeing_once_then_again_is_once(client, db_session, signed, resident, energy_text):
    first = client.put(URL, json={"version": 1}, headers=signed)
    assert first.status_code == 201, first.get_data(as_text=True)
    body = first.get_json()
    assert body["consented"] is True
    assert body["consent"]["version"] == 1
    assert body["consent"]["method"] == "app"
    assert body["consent"]["given_at"].endswith("+00:00")
    again = client.put(URL, json={"version": 1}, headers=signed)
    assert again.status_code == 200
    assert again.get_json()["consent"] == body["consent"]
    assert count(db_session, Consent) == 1


def test_another_version_is_refused(client, db_session, signed, energy_text):
    assert_problem(client.put(URL, json={"version": 2}, headers=signed), 409, "consent-outdated")
    assert count(db_session, Consent) == 0


@pytest.mark.parametrize(
    "body",
    [{}, {"version": "1"}, {"version": 0}, {"version": 1.5}, {"version": 1, "user_id": 9}],
)
def test_a_malformed_consent_is_refused(client, db_session, signed, energy_text, body):
    assert_problem(client.put(URL, json=body, headers=signed), 422)
    assert count(db_session, Consent) == 0


def test_a_new_version_asks_again(
    client, signed, lyon, resident, energy_text, agree, publish_energy_text
):
    agree(resident)
    publish_energy_text(lyon, {"fr": "Nouvelle version.", "en": "New version."})
    body = client.get(URL, headers=signed).get_json()
    assert body["text"]["version"] == 2
    assert (body["consent"], body["consented"], body["ask_again"]) == (None, False, True)
    assert_problem(client.put(URL, json={"version": 1}, headers=signed), 409, "consent-outdated")
    agreed = client.put(URL, json={"version": 2}, headers=signed)
    assert agreed.status_code == 201
    assert agreed.get_json()["consent"]["version"] == 2
    assert agreed.get_json()["ask_again"] is False


def test_my_city_only(client, bearer, vienna, make_user, energy_text):
    """Lyon's text is Lyon's: a resident of Vienna, which has none, finds nothing."""
    viennese = make_user(vienna)
    assert_problem(client.get(URL, headers=bearer(viennese)), 404)
    assert_problem(client.put(URL, json={"version": 1}, headers=bearer(viennese)), 404)


def test_withdrawing_without_readings_needs_no_confirmation(
    client, db_session, signed, resident, energy_text, agree
):
    agree(resident)
    assert client.delete(URL, headers=signed).status_code == 204
    assert consent.active_consent(db_session, resident, Purpose.ENERGY_FEEDBACK) is None
    # Twice is once.
    assert client.delete(URL, headers=signed).status_code == 204
    body = client.get(URL, headers=signed).get_json()
    assert (body["consent"], body["consented"], body["ask_again"]) == (None, False, False)


def test_withdrawing_warns_with_the_count_then_deletes_the_readings(
    client, db_session, bearer, energy_resident, meter, greenbutton
):
    headers = bearer(energy_resident, **{"Accept-Language": "en"})
    imports = f"/api/v1/meters/{meter.id}/imports"
    sent = upload(client, imports, headers, greenbutton("test_usage_data_01.xml"))
    assert sent.status_code == 201, sent.get_data(as_text=True)
    assert client.get(URL, headers=headers).get_json()["readings_held"] == 96

    warned = assert_problem(client.delete(URL, headers=headers), 409, "confirm-deletion")
    assert "96 meter readings" in warned["detail"]
    assert "confirm=delete-readings" in warned["detail"]
    assert count(db_session, Reading) == 96
    assert consent.active_consent(db_session, energy_resident, Purpose.ENERGY_FEEDBACK)
    # A confirmation that is not the one asked for changes nothing either.
    assert_problem(client.delete(URL + "?confirm=yes", headers=headers), 400)
    assert count(db_session, Reading) == 96

    done = client.delete(URL + "?confirm=delete-readings", headers=headers)
    assert done.status_code == 204
    assert count(db_session, Reading) == 0
    assert count(db_session, MeterImport) == 0
    assert count(db_session, Meter) == 1  # the meter stays, empty
    assert consent.active_consent(db_session, energy_resident, Purpose.ENERGY_FEEDBACK) is None
    body = client.get(URL, headers=headers).get_json()
    assert (body["consented"], body["readings_held"]) == (False, 0)
    # Without consent nothing more is stored.
    again = upload(client, imports, headers, greenbutton("test_usage_data_01.xml"))
    assert_problem(again, 409, "consent-required")
    assert count(db_session, Reading) == 0


def test_other_purposes_withdraw_at_once(client, db_session, signed, lyon, operator, resident):
    consent.publish_text(db_session, operator(lyon), lyon, Purpose.RESEARCH, {"fr": "Recherche."})
    research = "/api/v1/consents/research"
    assert client.put(research, json={"version": 1}, headers=signed).status_code == 201
    assert client.get(research, headers=signed).get_json()["readings_held"] is None
    assert client.delete(research, headers=signed).status_code == 204
    assert consent.active_consent(db_session, resident, Purpose.RESEARCH) is None
