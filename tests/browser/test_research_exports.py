"""A research export from the console, in real Chromium: a researcher of Lyon asks for an
export of a survey's responses in three steps, watches it wait for the scheduler, the
scheduler's job builds it, and after a reload the researcher reads the report and downloads
the ZIP through the browser; the ZIP opens and holds the documented package."""

import io
import zipfile

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.models import Role
from research.jobs import research_exports
from research.models import ResearchExport, ResearchStatus
from tests.browser.idea_world import lyon_and_operator, person, sign_in
from tests.console.test_research_views import research_survey

pytestmark = pytest.mark.browser

RESEARCHER = "researcher@lyon.example"
PURPOSE = "How residents heat their homes and how comfortable they are in winter."


def _world(app) -> None:
    """A researcher of Lyon, and a survey answered by twelve residents who agreed to research
    use and two who did not."""
    with app.app_context():
        lyon, operator = lyon_and_operator(db.session)
        person(db.session, lyon, RESEARCHER, Role.RESEARCHER, "Rita Researcher", "en")
        research_survey(db.session, operator, lyon, slug="chauffage")
        db.session.commit()
        db.session.remove()


def _export(app) -> ResearchExport:
    with app.app_context():
        export = db.session.scalars(sa.select(ResearchExport)).one()
        db.session.expunge(export)
        db.session.remove()
        return export


def test_a_researcher_requests_follows_and_downloads_an_export(
    browser, live_server, tmp_path, monkeypatch
):
    app, url = live_server.app, live_server.url
    monkeypatch.setitem(app.config, "RESEARCH_EXPORT_DIR", str(tmp_path / "exports"))
    _world(app)
    context, page = sign_in(browser, live_server, RESEARCHER)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # Three steps: what kind of data, which survey, then the request itself.
    page.goto(f"{url}/console/lyon/campaigns")
    page.get_by_role("link", name="Research", exact=True).click()
    expect(page.locator("main")).to_contain_text("You have not asked for a research export yet.")
    page.get_by_role("link", name="New research export").click()
    page.get_by_label("A survey's responses").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Survey").select_option(label="Your heating")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("main dl.facts").first).to_contain_text("Your heating")
    page.get_by_label("Purpose").fill("Too short")
    page.get_by_role("button", name="Request the export").click()
    expect(page.locator(".error-summary")).to_contain_text("20 to 2000 characters")
    page.get_by_label("Purpose").fill(PURPOSE)
    page.locator("fieldset#quasi").get_by_label("Comfort in winter (comfort)").check()
    page.get_by_label("SPSS (.sav)").check()
    page.get_by_role("button", name="Request the export").click()
    expect(page.locator(".flash-success")).to_contain_text("Your request is recorded.")
    expect(page.locator("main")).to_contain_text("Waiting for the scheduler")
    expect(page.locator("progress#progress")).to_have_attribute("value", "0")
    export = _export(app)
    assert export.status == ResearchStatus.PENDING
    assert export.options["quasi"] == ["comfort"] and export.options["formats"] == ["sav"]

    # The scheduler's job, run here against the live app's database.
    with app.app_context():
        assert research_exports(db.session)["built"] == 1
        db.session.remove()
    page.reload()
    main = page.locator("main")
    expect(main).to_contain_text("The export passed the anonymity check")
    expect(main).to_contain_text("Left out without research consent")
    expect(page.locator("dt", has_text="Records released").locator("+ dd")).to_have_text("12")
    expect(page.locator("dt", has_text="k achieved").locator("+ dd")).to_have_text("12")
    expect(main).to_contain_text("This link works for 15 minutes and only for you.")
    assert page.locator('meta[http-equiv="refresh"]').count() == 0

    with page.expect_download() as caught:
        page.get_by_role("link", name="Download the export (ZIP)").click()
    download = caught.value
    assert download.suggested_filename == f"research-export-{export.id}.zip"
    with open(download.path(), "rb") as handle:
        data = handle.read()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        names = set(package.namelist())
        readme = package.read("README.txt").decode()
        csv_text = package.read("data/responses.csv").decode()
    assert {"README.txt", "report.json", "codebook.csv", "datapackage.json"} <= names
    assert {"data/responses.csv", "data/responses.sav"} <= names
    assert PURPOSE in readme
    assert "Respondent" not in csv_text and "@lyon.example" not in csv_text
    assert _export(app).downloads == 1

    # Back on the list, the export shows as ready with its size.
    page.get_by_role("link", name="Research exports").click()
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("Ready")
    expect(row).to_contain_text("kB")
    assert errors == []
    context.close()
