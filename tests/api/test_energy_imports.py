"""Importing meter files through the API: Green Button and CSV uploads with their summaries,
the same file twice changing nothing, CSV previews and city presets, and files that are not
meter data, too large, or sent with fields nobody may set, refused."""

import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.models import Role
from energy import presets
from energy.models import MeterImport, Reading
from tests.api.energy_helpers import (
    count,
    total,
    upload,
)
from tests.api.helpers import assert_problem
from tests.energy.helpers import START, Point, quarter_hours, usage_feed

IMPORT_FIELDS = {"id", "meter_id", "kind", "filename", "created_at", "summary"}
SUMMARY_FIELDS = {
    "rows_read",
    "intervals",
    "new",
    "replaced",
    "unchanged",
    "duplicates_dropped",
    "gaps",
    "gaps_total",
    "rejected",
    "rejected_total",
    "notes",
    "period",
    "same_file_as",
}
#: A meter portal's export: quarter-hours in kWh stamped at their end, Paris time. Line 4 is
#: not a number, line 6 repeats line 5, and the quarter-hour before line 9 is missing.
PORTAL_CSV = (
    b"Messzeitpunkt;Verbrauch [kWh]\r\n"
    b"01.03.2024 00:15;0,250\r\n"
    b"01.03.2024 00:30;0,300\r\n"
    b"01.03.2024 00:45;n/a\r\n"
    b"01.03.2024 01:00;0,350\r\n"
    b"01.03.2024 01:00;0,350\r\n"
    b"01.03.2024 01:15;0,400\r\n"
    b"01.03.2024 01:30;0,450\r\n"
    b"01.03.2024 02:00;0,500\r\n"
    b"01.03.2024 02:15;0,550\r\n"
)
PORTAL_MAPPING = {
    "timestamp": "Messzeitpunkt",
    "value": "Verbrauch [kWh]",
    "stamp_marks": "end",
    "value_kind": "energy",
    "value_unit": "kWh",
}


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- Green Button ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "readings", "first", "last", "wh"),
    [
        ("test_usage_data.xml", 1340, utc(2012, 3, 1, 5), utc(2012, 3, 15, 4), 1_391_666),
        (
            "Coastal_Multi_Family_Jan_1_2011_to_Jan_1_2012_RetailCustomer_5.xml",
            8760,
            utc(2011, 1, 1, 8),
            utc(2012, 1, 1, 8),
            4_425_305,
        ),
    ],
)
def test_a_green_button_file_imports_with_its_documented_figures(
    client, db_session, energy_headers, meter, greenbutton, name, readings, first, last, wh
):
    url = f"/api/v1/meters/{meter.id}/imports"
    answer = upload(client, url, energy_headers, greenbutton(name), name=name)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    body = answer.get_json()
    assert set(body) == IMPORT_FIELDS
    assert set(body["summary"]) == SUMMARY_FIELDS
    assert (body["meter_id"], body["kind"], body["filename"]) == (meter.id, "greenbutton", name)
    summary = body["summary"]
    assert (summary["rows_read"], summary["intervals"], summary["new"]) == (readings,) * 3
    assert (summary["replaced"], summary["unchanged"], summary["same_file_as"]) == (0, 0, None)
    assert (summary["rejected"], summary["rejected_total"], summary["gaps_total"]) == ([], 0, 0)
    assert [datetime.fromisoformat(t) for t in summary["period"]] == [first, last]
    assert count(db_session, Reading) == readings
    assert total(db_session, meter) == wh

    # The same file again: a new import saying so, and no reading changed.
    again = upload(client, url, energy_headers, greenbutton(name), name=name)
    assert again.status_code == 201
    repeat = again.get_json()["summary"]
    assert repeat["same_file_as"] == body["id"]
    assert (repeat["new"], repeat["replaced"], repeat["unchanged"]) == (0, 0, readings)
    assert count(db_session, Reading) == readings
    assert total(db_session, meter) == wh


def test_several_usage_points_need_a_choice(client, db_session, energy_headers, meter):
    feed = usage_feed(
        Point("A1", "Flat", readings=quarter_hours(START, 4)),
        Point("B2", "Garage", readings=quarter_hours(START, 8, lambda i: 10)),
    )
    url = f"/api/v1/meters/{meter.id}/imports"
    body = assert_problem(upload(client, url, energy_headers, feed), 422)
    listed = body["errors"]["usage_point"][0]
    assert "A1: Flat" in listed and "B2: Garage" in listed
    assert count(db_session, Reading) == 0
    chosen = upload(client, url, energy_headers, feed, usage_point="B2")
    assert chosen.status_code == 201, chosen.get_data(as_text=True)
    assert chosen.get_json()["summary"]["intervals"] == 8
    assert total(db_session, meter) == 80


# --- CSV ------------------------------------------------------------------------------------


def test_csv_preview_shows_how_the_file_looks(client, db_session, energy_headers):
    answer = upload(
        client, "/api/v1/meters/csv-preview", energy_headers, PORTAL_CSV, name="portal.csv"
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert (body["delimiter"], body["decimal"], body["has_header"]) == (";", ",", True)
    assert body["columns"] == ["Messzeitpunkt", "Verbrauch [kWh]"]
    assert body["rows"][0] == ["01.03.2024 00:15", "0,250"]
    assert [guess["kind"] for guess in body["guesses"]] == ["timestamp", "number"]
    assert count(db_session, MeterImport) == 0


def test_a_green_button_file_needs_no_preview(client, energy_headers, greenbutton):
    url = "/api/v1/meters/csv-preview"
    sent = upload(client, url, energy_headers, greenbutton("test_usage_data_01.xml"), name="u.csv")
    assert "Green Button" in assert_problem(sent, 422)["errors"]["file"][0]


def test_a_csv_with_a_mapping_imports_and_reports_every_problem(
    client, db_session, energy_headers, meter
):
    url = f"/api/v1/meters/{meter.id}/imports"
    answer = upload(
        client,
        url,
        energy_headers,
        PORTAL_CSV,
        name="portal.csv",
        mapping=json.dumps(PORTAL_MAPPING),
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    body = answer.get_json()
    summary = body["summary"]
    assert body["kind"] == "csv"
    assert summary["rows_read"] == 9
    # Paris is UTC+1 in March: the quarter-hour ending 00:15 local is 23:00-23:15 UTC.
    assert [datetime.fromisoformat(t) for t in summary["period"]] == [
        utc(2024, 2, 29, 23),
        utc(2024, 3, 1, 1, 15),
    ]
    assert (summary["intervals"], summary["new"], summary["duplicates_dropped"]) == (7, 7, 1)
    assert [r["line"] for r in summary["rejected"]] == [4]
    assert "n/a" in summary["rejected"][0]["reason"]
    assert summary["rejected_total"] == 1
    assert summary["gaps_total"] == 2
    assert [[datetime.fromisoformat(t) for t in gap] for gap in summary["gaps"]] == [
        [utc(2024, 2, 29, 23, 30), utc(2024, 2, 29, 23, 45)],
        [utc(2024, 3, 1, 0, 30), utc(2024, 3, 1, 0, 45)],
    ]
    assert total(db_session, meter) == pytest.approx(250 + 300 + 350 + 400 + 450 + 500 + 550)


def test_a_csv_needs_a_mapping(client, db_session, energy_headers, meter):
    url = f"/api/v1/meters/{meter.id}/imports"
    body = assert_problem(upload(client, url, energy_headers, PORTAL_CSV, name="p.csv"), 422)
    assert "mapping" in body["errors"]
    for mapping, field in [("not json", "mapping"), ("[1, 2]", "mapping")]:
        sent = upload(client, url, energy_headers, PORTAL_CSV, name="p.csv", mapping=mapping)
        assert field in assert_problem(sent, 422)["errors"]
    bad = {**PORTAL_MAPPING, "value_kind": "volts"}
    sent = upload(client, url, energy_headers, PORTAL_CSV, name="p.csv", mapping=json.dumps(bad))
    assert "value_kind" in assert_problem(sent, 422)["errors"]
    assert (count(db_session, Reading), count(db_session, MeterImport)) == (0, 0)


def test_a_city_preset_maps_the_columns(
    client, db_session, energy_headers, lyon, vienna, make_user, meter
):
    staff = make_user(lyon, role=Role.STAFF)
    preset = presets.create_preset(db_session, staff, lyon, "Portail Enedis", PORTAL_MAPPING)
    other = presets.create_preset(
        db_session, make_user(vienna, role=Role.STAFF), vienna, "Wiener Netze", PORTAL_MAPPING
    )
    db_session.commit()
    listed = client.get("/api/v1/csv-presets", headers=energy_headers).get_json()
    assert listed == [{"id": preset.id, "name": "Portail Enedis", "mapping": preset.mapping}]
    url = f"/api/v1/meters/{meter.id}/imports"
    refused = upload(client, url, energy_headers, PORTAL_CSV, name="p.csv", preset=str(other.id))
    assert "preset" in assert_problem(refused, 422)["errors"]
    both = upload(
        client,
        url,
        energy_headers,
        PORTAL_CSV,
        name="p.csv",
        preset=str(preset.id),
        mapping=json.dumps(PORTAL_MAPPING),
    )
    assert_problem(both, 422)
    answer = upload(client, url, energy_headers, PORTAL_CSV, name="p.csv", preset=str(preset.id))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.get_json()["summary"]["new"] == 7


# --- what is not a meter file ---------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("usage.xml", "<feed/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "name"),
    [(PNG, "usage.xml"), (_zip(), "usage.csv"), (b"", "empty.csv"), (b"\x00" * 64, "n.csv")],
)
def test_what_is_not_meter_data_is_refused_whatever_its_name(
    client, db_session, energy_headers, meter, content, name
):
    url = f"/api/v1/meters/{meter.id}/imports"
    body = assert_problem(upload(client, url, energy_headers, content, name=name), 422)
    assert "file" in body["errors"]
    preview = upload(client, "/api/v1/meters/csv-preview", energy_headers, content, name=name)
    assert "file" in assert_problem(preview, 422)["errors"]
    assert (count(db_session, Reading), count(db_session, MeterImport)) == (0, 0)


def test_a_body_over_the_limit_is_refused(client, db_session, energy_headers, meter):
    big = b"a;b\n" + b"1;2\n" * (21 * 1024 * 1024 // 4)
    for url in (f"/api/v1/meters/{meter.id}/imports", "/api/v1/meters/csv-preview"):
        assert_problem(upload(client, url, energy_headers, big, name="big.csv"), 413)
    assert count(db_session, MeterImport) == 0


def test_the_limit_is_the_meter_files_own(app, client, energy_headers, meter, greenbutton):
    """Files over the app's 1 MB request limit, up to the meter limit, are taken."""
    data = greenbutton("Coastal_Multi_Family_Jan_1_2011_to_Jan_1_2012_RetailCustomer_5.xml")
    assert len(data) > app.config["MAX_CONTENT_LENGTH"]
    answer = upload(client, f"/api/v1/meters/{meter.id}/imports", energy_headers, data)
    assert answer.status_code == 201


@pytest.mark.parametrize(
    "fields",
    [{}, {"file": "just text"}, {"user_id": "3"}, {"meter_id": "3"}],
)
def test_a_malformed_upload_is_refused(client, db_session, energy_headers, meter, fields):
    data = dict(fields)
    if "file" not in data and fields:
        data["file"] = FileStorage(io.BytesIO(PORTAL_CSV), filename="p.csv")
    boundary, body = encode_multipart(data)
    answer = client.post(
        f"/api/v1/meters/{meter.id}/imports",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=energy_headers,
    )
    assert_problem(answer, 422)
    assert count(db_session, MeterImport) == 0


def test_a_json_body_is_not_an_upload(client, energy_headers, meter):
    answer = client.post(
        f"/api/v1/meters/{meter.id}/imports", json={"file": "x"}, headers=energy_headers
    )
    assert "file" in assert_problem(answer, 422)["errors"]


def test_only_the_file_name_is_kept(client, db_session, energy_headers, meter, greenbutton):
    url = f"/api/v1/meters/{meter.id}/imports"
    answer = upload(
        client,
        url,
        energy_headers,
        greenbutton("test_usage_data_01.xml"),
        name="../../etc/\x07usage.xml",
    )
    assert answer.status_code == 201
    assert answer.get_json()["filename"] == "usage.xml"


# --- the list of imports --------------------------------------------------------------------


def test_my_meters_imports_newest_first_a_page_at_a_time(
    client, energy_headers, meter, greenbutton
):
    url = f"/api/v1/meters/{meter.id}/imports"
    made = [
        upload(client, url, energy_headers, greenbutton(name), name=name).get_json()["id"]
        for name in (
            "test_usage_data_01.xml",
            "electric_containerized.xml",
            "test_usage_data_01.xml",
        )
    ]
    first = client.get(url + "?limit=2", headers=energy_headers).get_json()
    assert [item["id"] for item in first["items"]] == made[::-1][:2]
    assert first["items"][0]["summary"]["same_file_as"] == made[0]
    rest = client.get(
        f"{url}?limit=2&cursor={first['next_cursor']}", headers=energy_headers
    ).get_json()
    assert [item["id"] for item in rest["items"]] == [made[0]]
    assert rest["next_cursor"] is None
    assert_problem(client.get(url + "?cursor=nonsense", headers=energy_headers), 400)


def test_the_limit_follows_its_setting(
    app, client, monkeypatch, energy_headers, meter, greenbutton
):
    monkeypatch.setitem(app.config, "METER_UPLOAD_MAX_BYTES", 20_000)
    url = f"/api/v1/meters/{meter.id}/imports"
    assert_problem(upload(client, url, energy_headers, greenbutton("test_usage_data_01.xml")), 413)
    assert (
        upload(client, url, energy_headers, greenbutton("electric_containerized.xml")).status_code
        == 201
    )


def test_reading_files_is_rate_limited(client, energy_headers):
    url = "/api/v1/meters/csv-preview"
    statuses = [upload(client, url, energy_headers, PORTAL_CSV).status_code for _ in range(21)]
    assert statuses == [200] * 20 + [429]


@pytest.mark.parametrize(
    "changes",
    [
        {"timestamp": 7},
        {"timestamp": "Nowhere"},
        {"value": "Messzeitpunkt"},
        {"timestamp_format": "%Y"},
        {"timestamp_format": "%m/%d/%Y %H:%M"},
        {"interval_minutes": 7},
        {"timezone": "Mars/Olympus"},
        {"decimal": ";"},
        {"value_kind": "power", "value_unit": "kWh"},
        {"value_unit": "m3"},
        {"stamp_marks": None},
        {"time": "Verbrauch [kWh]"},
        {"timestamp": {"column": 0}},
        {"extra": True},
    ],
)
def test_a_mapping_that_does_not_fit_is_refused_and_stores_nothing(
    client, db_session, energy_headers, meter, changes
):
    mapping = {**PORTAL_MAPPING, **changes}
    sent = upload(
        client,
        f"/api/v1/meters/{meter.id}/imports",
        energy_headers,
        PORTAL_CSV,
        name="p.csv",
        mapping=json.dumps(mapping),
    )
    assert sent.status_code in (201, 422), sent.get_data(as_text=True)
    if sent.status_code == 201:
        # Read, but every row refused: each with its line and reason, nothing stored.
        summary = sent.get_json()["summary"]
        assert summary["new"] == 0
        assert summary["rejected_total"] == summary["rows_read"]
    assert count(db_session, Reading) == 0


def test_a_green_button_file_into_a_water_meter_is_refused(
    client, db_session, energy_headers, energy_resident, make_meter, greenbutton
):
    water = make_meter(energy_resident, commodity="water")
    sent = upload(
        client,
        f"/api/v1/meters/{water.id}/imports",
        energy_headers,
        greenbutton("test_usage_data_01.xml"),
    )
    assert "file" in assert_problem(sent, 422)["errors"]
    assert count(db_session, Reading) == 0
