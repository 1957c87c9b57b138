"""Energy in the console, in real Chromium: a city administrator publishes the energy feedback
consent text (after a preview), saves a meter portal's CSV format from a sample file, uploads
the city's daily temperatures and reads the district totals, where a small district shows no
figures and a district name carrying script stays text."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.consent_models import ConsentText
from app.extensions import db
from app.models import Role
from energy.models import CsvPreset, TemperatureDay
from tests.browser.idea_world import lyon_and_operator, person, sign_in
from tests.browser.test_ideas_xss import DOM_CHECK
from tests.energy.district_helpers import households, weeks

pytestmark = pytest.mark.browser

ADMIN = "energy.admin@lyon.example"
PAYLOAD = "<img src=x onerror=\"window.__xss='district'\">"
SAMPLE = (
    "Horodate;Valeur (W)\n"
    "2024-03-01T00:00:00+01:00;420\n"
    "2024-03-01T00:30:00+01:00;380\n"
    "2024-03-01T01:00:00+01:00;360\n"
)


def _temperatures() -> bytes:
    """January 2024 in Lyon, 10 January missing."""
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(31)]
    rows = [f"{day:%d.%m.%Y};{(i % 7) - 2},5" for i, day in enumerate(days) if day.day != 10]
    return ("Date;Moyenne (°C)\n" + "\n".join(rows) + "\n").encode()


def _admin_and_districts(app) -> None:
    with app.app_context():
        lyon, _operator = lyon_and_operator(db.session)
        person(db.session, lyon, ADMIN, Role.ADMIN, "Energy Admin", "en")
        lyon.districts = ["Croix-Rousse", "Vaise", PAYLOAD]
        db.session.commit()
        db.session.remove()


def _households(app) -> None:
    """Twelve households of Croix-Rousse, three of Vaise, ten of the district with the payload,
    each with consent to the text just published and four weekly reports."""
    with app.app_context():
        lyon, _operator = lyon_and_operator(db.session)
        reports = weeks(date(2024, 3, 4), 4, 50_000.0, 5_000.0)
        households(db.session, lyon, "Croix-Rousse", 12, reports)
        households(db.session, lyon, "Vaise", 3, reports)
        households(db.session, lyon, PAYLOAD, 10, reports)
        db.session.commit()
        db.session.remove()


def _stored(app, model) -> int:
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(model))
        db.session.remove()
        return count


def test_consent_preset_temperatures_and_districts(browser, live_server):
    app, url = live_server.app, live_server.url
    _admin_and_districts(app)
    context, page = sign_in(browser, live_server, ADMIN)
    dialogs, errors = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: errors.append(str(error)))

    # The consent text: written side by side, previewed, published.
    page.goto(f"{url}/console/lyon/campaigns")
    page.get_by_role("link", name="Consent texts").click()
    page.get_by_role("link", name="Write the first version (Energy feedback)").click()
    page.locator("#text-fr").fill("Vos relevés servent **uniquement** à vos conseils.")
    page.locator("#text-en").fill("Your readings are used **only** for your feedback.")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("section.panel strong").first).to_have_text("uniquement")
    assert _stored(app, ConsentText) == 0
    page.get_by_role("button", name="Publish version 1").click()
    expect(page.locator(".flash-success")).to_contain_text("Version 1 of “Energy feedback”")
    assert _stored(app, ConsentText) == 1
    _households(app)

    # A CSV format from a sample of the portal's export.
    page.get_by_role("link", name="Energy", exact=True).click()
    page.get_by_role("link", name="CSV formats").click()
    page.get_by_role("link", name="New CSV format").click()
    page.get_by_label("Sample file from the portal (optional)").set_input_files(
        {"name": "export.csv", "mimeType": "text/csv", "buffer": SAMPLE.encode()}
    )
    page.get_by_role("button", name="Read the sample").click()
    expect(page.locator("main table")).to_contain_text("2024-03-01T00:30:00+01:00")
    expect(page.locator("#timestamp")).to_have_value("Horodate")
    expect(page.locator("#value")).to_have_value("Valeur (W)")
    # The unit in the values' header says they are average power in W.
    expect(page.locator("#value_kind")).to_have_value("power")
    expect(page.locator("#value_unit")).to_have_value("W")
    page.locator("#name").fill("Enedis courbe de charge")
    page.get_by_role("button", name="Save the format").click()
    expect(page.locator(".flash-success")).to_contain_text("“Enedis courbe de charge” is saved")
    expect(page.locator("main table")).to_contain_text("average power · W")
    assert _stored(app, CsvPreset) == 1

    # The daily temperatures, and the day missing among them.
    page.get_by_role("link", name="Tariffs and temperatures").click()
    expect(page.locator("main")).to_contain_text("No temperatures yet")
    page.get_by_label("Daily temperatures (CSV)").set_input_files(
        {"name": "lyon-2024-01.csv", "mimeType": "text/csv", "buffer": _temperatures()}
    )
    page.get_by_role("button", name="Upload the temperatures").click()
    summary = page.locator(".import-result")
    expect(summary).to_contain_text("New days stored")
    expect(summary.locator("dd").nth(2)).to_have_text("30")
    expect(page.locator("main")).to_contain_text("1 day missing")
    assert _stored(app, TemperatureDay) == 30

    # The district totals: figures for the large groups only, the payload shown as text.
    page.get_by_role("link", name="Districts").click()
    main = page.locator("main")
    croix = main.locator("tr", has=page.locator("th", has_text="Croix-Rousse"))
    expect(croix.locator("td").first).to_have_text("12")
    expect(croix).to_contain_text("2,400")  # 12 households, four weeks of 50 kWh
    vaise = main.locator("tr", has=page.locator("th", has_text="Vaise"))
    expect(vaise).to_contain_text("Fewer than 10 households")
    payload = main.locator("tr", has=page.locator("th", has_text="<img src=x"))
    expect(payload).to_contain_text("Hidden so that a smaller district")
    expect(main.locator("tfoot")).to_contain_text("25")
    found = page.evaluate(DOM_CHECK)
    assert found == {"scripts": 0, "handlers": [], "links": [], "xss": None}
    context.close()
    assert dialogs == [] and errors == []
