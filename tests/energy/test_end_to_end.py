"""End to end, through the API, the scheduler's jobs and a real SMTP server: a resident of
Vienna agrees to energy feedback, uploads a year of quarter hours from their meter portal,
and gets the week's feedback by email in German (always-on use, the comparison with twelve
similar households, a tip with its reason); the app says how each figure was computed; and
withdrawing consent deletes the readings and everything computed from them."""

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.jobs import deliver_outbox
from energy import meters
from energy.feedback.jobs import give_feedback
from energy.models import FeedbackReport, Reading
from energy.tariffs import set_tariff
from tests.energy.feedback_helpers import midnight, seed_readings
from tests.notifications.conftest import smtp_factory, smtp_server  # noqa: F401 (fixtures)

VIENNA = ZoneInfo("Europe/Vienna")
#: A year of quarter hours up to the end of the week told of (ISO week 47 of 2026), and the
#: Monday morning the scheduler runs after it.
FIRST_DAY = date(2025, 11, 23)
WEEK = date(2026, 11, 16)
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=VIENNA).astimezone(UTC)
QUARTER = timedelta(minutes=15)
PORTAL_MAPPING = (
    '{"timestamp": "Datum", "time": "Zeit bis", "value": "Verbrauch [kWh]",'
    ' "stamp_marks": "end", "value_kind": "energy", "value_unit": "kWh",'
    ' "timestamp_format": "%d.%m.%Y %H:%M", "decimal": ",", "interval_minutes": 15}'
)


def wh_of(start: datetime) -> int:
    """A flat that leaves 400 W on day and night (100 Wh a quarter hour), with an evening
    peak."""
    hour = start.astimezone(VIENNA).hour
    return 100 + (150 if 18 <= hour < 21 else 0) + (40 if 7 <= hour < 9 else 0)


def portal_year() -> tuple[bytes, int, int]:
    """The year as a German meter portal exports it (end-of-interval stamps, 24:00 closing a
    day, the autumn hour's end times twice, kWh with a decimal comma); the rows and the
    total in Wh."""
    lines = [
        "Zählpunkt;AT0010000000000000001000000000001",
        "",
        "Datum;Zeit von;Zeit bis;Verbrauch [kWh]",
    ]
    start, end = midnight(FIRST_DAY, VIENNA), midnight(WEEK + timedelta(days=7), VIENNA)
    total = rows = 0
    while start < end:
        begin, until = start.astimezone(VIENNA), (start + QUARTER).astimezone(VIENNA)
        to = "24:00" if until.date() != begin.date() else f"{until:%H:%M}"
        wh = wh_of(start)
        lines.append(f"{begin:%d.%m.%Y;%H:%M};{to};{wh // 1000},{wh % 1000:03d}")
        total, rows, start = total + wh, rows + 1, start + QUARTER
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig"), rows, total


@pytest.fixture
def vienna_energy(db_session, vienna, publish_energy_text, operator):
    """Vienna with its energy feedback text (German and English), districts and a tariff."""
    vienna.districts = ["Leopoldstadt", "Landstraße"]
    publish_energy_text(
        vienna,
        {
            "de": "Ihre Zählerdaten dienen nur dazu, Ihnen beim Energiesparen zu helfen.",
            "en": "Your meter readings are used only to help you save energy.",
        },
    )
    set_tariff(db_session, operator(vienna), vienna, "electricity", "0.30", "EUR")
    return vienna


@pytest.fixture
def neighbours(db_session, vienna_energy, make_user, agree):
    """Twelve consenting households of two people in 50-80 m² with an electricity meter and
    the week in hourly readings: 1.0 to 2.1 kWh a day more than nothing, all below the
    resident's."""
    for n in range(12):
        person = make_user(vienna_energy, locale="de")
        agree(person)
        meters.set_household(db_session, person, people=2, floor_area_m2=55.0 + n)
        meter = meters.create_meter(db_session, person, commodity="electricity")
        start = midnight(WEEK, VIENNA)
        seed_readings(
            db_session,
            meter,
            start,
            start + timedelta(days=7),
            timedelta(hours=1),
            lambda moment, n=n: 40.0 + 5 * n + (200 if moment.astimezone(VIENNA).hour == 19 else 0),
        )
    db_session.commit()


def test_a_resident_gets_the_weeks_feedback_in_german_and_withdrawing_deletes_it(
    app,
    client,
    db_session,
    vienna_energy,
    neighbours,
    make_user,
    bearer,
    smtp_server,  # noqa: F811 (the fixture imported above)
    translate,
):
    resident = make_user(vienna_energy, locale="de", email="jonas@wien.example")
    phone = bearer(resident, **{"Accept-Language": "de"})

    # Consent first: nothing is stored before it.
    text = client.get("/api/v1/consents/energy_feedback", headers=phone).get_json()
    assert (
        client.post("/api/v1/meters", json={"commodity": "electricity"}, headers=phone).status_code
        == 409
    )
    agreed = client.put(
        "/api/v1/consents/energy_feedback", json={"version": text["text"]["version"]}, headers=phone
    )
    assert agreed.status_code == 201
    household = client.put(
        "/api/v1/me/household",
        json={
            "people": 2,
            "floor_area_m2": 62,
            "dwelling_type": "apartment",
            "district": "Leopoldstadt",
        },
        headers=phone,
    )
    assert household.status_code == 200, household.get_json()
    made = client.post(
        "/api/v1/meters", json={"commodity": "electricity", "label": "Wohnung"}, headers=phone
    )
    assert made.status_code == 201
    meter_id = made.get_json()["id"]

    # A year of quarter hours from the meter portal, both clock changes inside.
    data, rows, total = portal_year()
    # Encoded in memory: the test client would spool a body this size to a temporary file
    # that it never closes.
    boundary, body = encode_multipart(
        {
            "file": FileStorage(io.BytesIO(data), "verbrauch.csv", content_type="text/csv"),
            "mapping": PORTAL_MAPPING,
        }
    )
    uploaded = client.post(
        f"/api/v1/meters/{meter_id}/imports",
        data=body,
        headers=phone,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    summary = uploaded.get_json()["summary"]
    assert (summary["rows_read"], summary["intervals"], summary["new"]) == (rows, rows, rows)
    assert summary["rejected_total"] == 0 and summary["gaps_total"] == 0
    stored = db_session.execute(
        sa.select(sa.func.count(), sa.func.sum(Reading.value)).where(Reading.meter_id == meter_id)
    ).one()
    assert (stored[0], round(stored[1])) == (rows, total)

    # Monday morning after the week: the scheduler computes it and tells everyone, by email.
    with app.app_context():
        counts = give_feedback(db_session, now=NOW)
        assert counts["reports"] >= 13 and counts["told"] == 13
        deliver_outbox(db_session, now=NOW + timedelta(minutes=1))
    [mail] = smtp_server.to("jonas@wien.example")
    body = mail.get_body(("plain",)).get_content()

    def german(message: str, **values) -> str:
        said = translate("de", message, **values)
        assert said != message % values if values else said != message  # really German
        return said

    assert mail["Subject"] == german("Your energy week: %(week)s", week="16.\u201322. Nov. 2026")
    assert (
        german(
            "Always on, day and night: %(power)s, which costs about %(cost)s a year.",
            power="400\u00a0W",
            cost="1.051,20\u00a0€",
        )
        in body
    )
    assert german("Your household uses more than half of them.") in body
    assert german("Switch off what stays on") in body
    assert german("Why this tip: %(reason)s", reason="").rstrip() in body

    # The app shows each figure with how it was computed.
    feedback = client.get(
        f"/api/v1/meters/{meter_id}/feedback?period=week&starts_on={WEEK}", headers=phone
    ).get_json()
    figures = (
        {figure["key"]: figure for figure in feedback["figures"]}
        if isinstance(feedback["figures"], list)
        else feedback["figures"]
    )
    assert figures["consumption"]["value"] == sum(
        wh_of(midnight(WEEK, VIENNA) + i * QUARTER) for i in range(7 * 96)
    )
    assert figures["consumption"]["how"]["readings"] == 7 * 96
    assert figures["baseload"]["value"] == 400
    assert figures["baseload"]["how"]["method"] == "median_of_night_minima"
    assert figures["comparison"]["value"]["position"] == "above"
    assert figures["comparison"]["how"]["households"] == 13
    assert feedback["tips"][0]["code"] == "standby"

    # Withdrawing: a clear warning first, then the readings and the feedback are gone.
    warned = client.delete("/api/v1/consents/energy_feedback", headers=phone)
    assert warned.status_code == 409
    assert str(rows) in warned.get_json()["detail"].replace(".", "").replace(",", "")
    gone = client.delete("/api/v1/consents/energy_feedback?confirm=delete-readings", headers=phone)
    assert gone.status_code == 204
    left = db_session.scalar(
        sa.select(sa.func.count()).select_from(Reading).where(Reading.meter_id == meter_id)
    )
    reports = db_session.scalar(
        sa.select(sa.func.count())
        .select_from(FeedbackReport)
        .where(FeedbackReport.meter_id == meter_id)
    )
    assert (left, reports) == (0, 0)
    assert client.get(f"/api/v1/meters/{meter_id}/feedback", headers=phone).status_code == 409
