"""Energy pages of the console: tariffs and the daily temperature upload, and CSV formats of
meter portals (from a sample file); who may use them, and that refused or unreadable input
changes nothing. The district view has its own tests (test_energy_district_views.py)."""

import io
from datetime import date
from html import unescape

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.audit import AuditEntry
from energy import presets, tariffs
from energy.models import CsvPreset, TemperatureDay
from tests.console.helpers import csrf_token, html, post_form

ENERGY = "/console/lyon/energy"
PRESETS = f"{ENERGY}/presets"
DISTRICTS = f"{ENERGY}/districts"
TEMPERATURES = "Datum;Tagesmittel\n2024-01-01;3,5\n2024-01-02;-1,0\n2024-01-05;2\n2024-01-06;x\n"
SAMPLE = (
    "Messzeitpunkt;Verbrauch [kWh];Status\n"
    "01.01.2024 00:15;0,100;gemessen\n"
    "01.01.2024 00:30;0,105;gemessen\n"
    "01.01.2024 00:45;0,110;gemessen\n"
)
PRESET_FORM = {
    "action": "save",
    "name": "Wiener Netze",
    "timestamp": "Messzeitpunkt",
    "value": "Verbrauch [kWh]",
    "stamp_marks": "end",
    "value_kind": "energy",
    "value_unit": "kWh",
    "decimal": ",",
    "timezone": "Europe/Vienna",
    "has_header": "yes",
    "interval_minutes": "15",
}


def _upload(client, path: str, field: str, data: bytes, name: str = "file.csv", **form):
    """A multipart form encoded in memory (the test client would spool a large body to a
    temporary file it never closes), with the session's CSRF token."""
    fields = {**form, field: FileStorage(io.BytesIO(data), filename=name)}
    boundary, body = encode_multipart({**fields, "csrf_token": csrf_token(client)})
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _days(db_session) -> dict:
    db_session.expire_all()
    return dict(db_session.execute(sa.select(TemperatureDay.day, TemperatureDay.mean_c)).all())


def _tariffs(db_session, city) -> dict:
    db_session.expire_all()
    return {
        c: (str(t.price.normalize()), t.currency)
        for c, t in tariffs.tariffs_of(db_session, city.id).items()
    }


# --- tariffs and temperatures ---------------------------------------------------------------


def test_staff_find_the_energy_pages_in_the_city_bar(as_person, people):
    page = html(as_person("staff").get("/console/lyon/campaigns"))
    assert f'href="{ENERGY}"' in page
    assert f'href="{ENERGY}"' not in html(as_person("moderator").get("/console/lyon/campaigns"))
    settings = html(as_person("staff").get(ENERGY))
    assert "Tariffs" in settings and "Daily temperatures" in settings
    assert f'href="{PRESETS}"' in settings and f'href="{DISTRICTS}"' in settings
    assert "No temperatures yet" in settings


def test_tariffs_are_saved_and_an_empty_price_removes_one(as_person, people, db_session, lyon):
    client = as_person("staff")
    form = {"price-electricity": "0,2516", "currency-electricity": "eur", "price-gas": "0.11"}
    form["currency-gas"] = "EUR"
    response = post_form(client, f"{ENERGY}/tariffs", form)
    assert response.status_code == 303
    assert _tariffs(db_session, lyon) == {"electricity": ("0.2516", "EUR"), "gas": ("0.11", "EUR")}
    page = html(client.get(ENERGY))
    assert "The tariffs are saved." in page
    assert 'value="0.2516"' in page
    post_form(
        client, f"{ENERGY}/tariffs", {"price-electricity": "0.26", "currency-electricity": "EUR"}
    )
    assert _tariffs(db_session, lyon) == {"electricity": ("0.26", "EUR")}


def test_a_wrong_tariff_saves_none_and_says_why(as_person, people, db_session, lyon):
    client = as_person("admin")
    form = {
        "price-electricity": "0.25",
        "currency-electricity": "EUR",
        "price-water": "cheap",
        "currency-water": "EURO",
    }
    response = post_form(client, f"{ENERGY}/tariffs", form)
    assert response.status_code == 422
    page = unescape(html(response))
    assert "Give a price above 0 and at most 99999.99999, with at most 5 decimals." in page
    assert "Give the currency's three-letter ISO code, e.g. EUR." in page
    assert 'id="price-water"' in page and 'value="cheap"' in page
    assert _tariffs(db_session, lyon) == {}


def test_temperatures_are_uploaded_with_a_summary_and_the_gaps_shown(as_person, people, db_session):
    client = as_person("staff")
    response = _upload(client, f"{ENERGY}/temperatures", "file", TEMPERATURES.encode())
    assert response.status_code == 200
    page = unescape(html(response))
    assert "What the import did" in page
    assert "<dt>New days stored</dt><dd>3</dd>" in page
    assert "1 row was rejected" in page and "Not a number: “x”." in page
    assert _days(db_session) == {
        date(2024, 1, 1): 3.5,
        date(2024, 1, 2): -1.0,
        date(2024, 1, 5): 2.0,
    }
    # The range covered, and the two days missing in it.
    assert "2 days missing" in page
    again = unescape(html(_upload(client, f"{ENERGY}/temperatures", "file", TEMPERATURES.encode())))
    assert "<dt>Days unchanged</dt><dd>3</dd>" in again
    assert len(_days(db_session)) == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x01\x02binary", "The file contains NUL bytes: it is not a text (CSV) file."),
        (b"name;city\nAda;Lyon\n", "No column of dates (e.g. 2024-01-31 or 31.01.2024) was found."),
        (None, "Choose a file."),
    ],
)
def test_a_file_that_is_not_a_series_stores_nothing(as_person, people, db_session, data, message):
    client = as_person("staff")
    if data is None:
        response = post_form(client, f"{ENERGY}/temperatures", {})
    else:
        response = _upload(client, f"{ENERGY}/temperatures", "file", data)
    assert response.status_code == 422
    assert message in unescape(html(response))
    assert _days(db_session) == {}


def test_an_upload_over_the_request_limit_is_refused(as_person, people, db_session):
    big = TEMPERATURES.encode() + b"2024-02-01;1\n" * 250_000
    response = _upload(as_person("staff"), f"{ENERGY}/temperatures", "file", big)
    assert response.status_code == 413
    assert _days(db_session) == {}


# --- CSV formats ----------------------------------------------------------------------------


def test_a_sample_fills_the_form_and_shows_its_first_rows(as_person, people, db_session):
    client = as_person("staff")
    response = _upload(client, f"{PRESETS}/new", "sample", SAMPLE.encode(), action="sample")
    assert response.status_code == 200
    page = unescape(html(response))
    assert "What the sample shows" in page
    assert "<td>01.01.2024 00:30</td><td>0,105</td><td>gemessen</td>" in page
    assert 'name="timestamp" type="text" value="Messzeitpunkt"' in page
    assert 'value="Verbrauch [kWh]"' in page
    assert 'name="timestamp_format" type="text" value="%d.%m.%Y %H:%M"' in page
    assert '<option selected value=",">' in page
    # The unit in the values' header, "Verbrauch [kWh]".
    assert '<option selected value="kWh">' in page
    assert '<option selected value="energy">' in page
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CsvPreset)) == 0


def test_a_sample_that_is_not_a_table_is_said_so(as_person, people):
    client = as_person("staff")
    response = _upload(client, f"{PRESETS}/new", "sample", b"\x89PNG\x00\x00", action="sample")
    assert response.status_code == 422
    assert "The file contains NUL bytes" in html(response)


def test_a_format_is_saved_listed_and_deleted(as_person, people, db_session, lyon):
    client = as_person("staff")
    response = post_form(client, f"{PRESETS}/new", PRESET_FORM)
    assert response.status_code == 303
    (preset,) = presets.presets_of(db_session, lyon)
    assert preset.mapping["timestamp"] == "Messzeitpunkt"
    assert preset.mapping["interval_minutes"] == 15 and preset.mapping["has_header"] is True
    assert preset.mapping["timezone"] == "Europe/Vienna"
    page = unescape(html(client.get(PRESETS)))
    assert "The format “Wiener Netze” is saved." in page
    assert "energy per interval · kWh" in page
    delete = f"{PRESETS}/{preset.id}/delete"
    assert post_form(client, delete, {}).status_code == 303
    assert presets.presets_of(db_session, lyon) == []
    actions = db_session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["csv_preset.create", "csv_preset.delete"]


@pytest.mark.parametrize(
    ("changes", "messages"),
    [
        (
            {"name": "", "value": ""},
            [
                "Give the format a name (the portal's, say).",
                "Choose the column that holds the values.",
            ],
        ),
        ({"value_kind": "power"}, ["Average power is given in W or kW."]),
        (
            {"interval_minutes": "7"},
            ["Give a number of minutes that divides a day (1, 5, 15, 30, 60 … 1440)."],
        ),
        (
            {"timestamp_format": "%Q"},
            ["Not a date pattern that reads a full date (e.g. %d.%m.%Y %H:%M)."],
        ),
    ],
)
def test_a_mapping_that_cannot_be_read_saves_nothing(
    as_person, people, db_session, lyon, changes, messages
):
    response = post_form(as_person("admin"), f"{PRESETS}/new", {**PRESET_FORM, **changes})
    assert response.status_code == 422
    page = unescape(html(response))
    for message in messages:
        assert message in page
    assert presets.presets_of(db_session, lyon) == []


def test_a_name_taken_is_refused(as_person, people, db_session, lyon):
    client = as_person("staff")
    post_form(client, f"{PRESETS}/new", PRESET_FORM)
    response = post_form(client, f"{PRESETS}/new", {**PRESET_FORM, "name": "wiener netze"})
    assert response.status_code == 422
    assert "Your city has a saved format with this name already." in html(response)
    assert len(presets.presets_of(db_session, lyon)) == 1


def test_another_citys_format_is_not_found(as_person, people, db_session, vienna, make_person):
    keeper = make_person(vienna, "staff@vienna.example", "staff")
    theirs = presets.create_preset(
        db_session,
        keeper,
        vienna,
        "Wiener Netze",
        {
            "timestamp": "Messzeitpunkt",
            "value": "Verbrauch",
            "stamp_marks": "end",
            "value_kind": "energy",
            "value_unit": "kWh",
        },
    )
    db_session.commit()
    for preset_id in (theirs.id, 2**40):
        assert post_form(as_person("staff"), f"{PRESETS}/{preset_id}/delete", {}).status_code == 404
    assert presets.presets_of(db_session, vienna) == [theirs]


# --- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "status"),
    [("moderator", 403), ("researcher", 403), ("other_moderator", 404), ("resident", 404)],
)
def test_others_see_none_of_it_and_change_nothing(
    as_person, people, db_session, lyon, actor, status
):
    client = as_person(actor)
    for path in (ENERGY, PRESETS, f"{PRESETS}/new", DISTRICTS, f"{DISTRICTS}.csv"):
        assert client.get(path).status_code == status, path
    prices = {"price-electricity": "0.25", "currency-electricity": "EUR"}
    assert post_form(client, f"{ENERGY}/tariffs", prices).status_code == status
    assert (
        _upload(client, f"{ENERGY}/temperatures", "file", TEMPERATURES.encode()).status_code
        == status
    )
    assert post_form(client, f"{PRESETS}/new", PRESET_FORM).status_code == status
    assert _tariffs(db_session, lyon) == {} and _days(db_session) == {}
    assert presets.presets_of(db_session, lyon) == []


def test_without_the_csrf_token_nothing_changes(as_person, people, db_session, lyon):
    client = as_person("staff")
    prices = {"price-electricity": "0.25", "currency-electricity": "EUR"}
    assert client.post(f"{ENERGY}/tariffs", data=prices).status_code == 400
    assert client.post(f"{PRESETS}/new", data=PRESET_FORM).status_code == 400
    assert _tariffs(db_session, lyon) == {} and presets.presets_of(db_session, lyon) == []
