"""Research exports in the console: a researcher requests one in steps (data, subject, options),
follows it, reads its report and downloads it through a short-lived link; the city's admins
read every request but fetch nothing; projects are listed and created."""

import io
import uuid
import zipfile
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import consent
from app.audit import AuditEntry
from app.consent_models import Purpose
from app.db import utcnow
from app.extensions import db
from app.models import Role, User
from research import projects, service
from research.jobs import research_exports
from research.models import ResearchExport, ResearchProject, ResearchStatus
from research.options import ExportOptions
from surveys import responses_submit
from tests.console.helpers import html, post_form
from tests.console.test_pages import _audit
from tests.surveys.helpers import (
    DEFINITION,
    GAS,
    HEAT_PUMP,
    make_survey,
    published_campaign,
)

RESEARCH = "/console/lyon/research"
PURPOSE = "Heating habits and comfort in winter, for the city's renovation study."


def research_survey(session, operator, city, consenting=12, refusing=2, slug="research"):
    """A published survey answered by ``consenting`` residents who agreed to research use and
    ``refusing`` who did not, all made through the services."""
    text = consent.publish_text(
        session, operator, city, Purpose.RESEARCH, dict.fromkeys(city.enabled_locales, "Research")
    )
    campaign = published_campaign(session, operator, city, slug=slug)
    survey = make_survey(session, operator, campaign)
    now = utcnow()
    for number in range(consenting + refusing):
        person = User(
            email=f"{slug}.{number}@lyon.example",
            password_hash="-",
            city_id=city.id,
            display_name=f"Respondent {number}",
            email_verified_at=now,
        )
        session.add(person)
        session.flush()
        if number < consenting:
            consent.give_consent(session, person, Purpose.RESEARCH, text.version)
        answers = GAS if number % 2 else HEAT_PUMP
        responses_submit.submit(
            session,
            person,
            survey,
            str(uuid.uuid4()),
            survey.current_version_id,
            answers,
            "fr",
            now,
        )
    session.flush()
    return survey


def requested_export(app, session, researcher, city, survey, **options) -> ResearchExport:
    """A pending export of ``survey``, requested through the service on ``session``."""
    with app.app_context():
        return service.request_export(
            session,
            researcher,
            city,
            dataset="survey",
            subject_id=survey.id,
            purpose=PURPOSE,
            options=ExportOptions(k=10, l=2, min_cell=10, **options),
            locale="en",
            project_id=None,
        )


def research_world(app, session, people) -> dict:
    """For the permission tests: a ready export of Lyon's researcher (its file a small ZIP
    under RESEARCH_EXPORT_DIR) and a download link of theirs to it."""
    researcher = people["researcher"]
    with app.app_context():
        export = service.request_export(
            session,
            researcher,
            researcher.city,
            dataset="energy",
            subject_id=None,
            purpose=PURPOSE,
            options=ExportOptions(k=10, l=2, min_cell=10),
            locale="fr",
            project_id=None,
        )
        directory = Path(app.config["RESEARCH_EXPORT_DIR"])
        directory.mkdir(parents=True, exist_ok=True)
        export.file_name = f"{uuid.uuid4().hex}.zip"
        with zipfile.ZipFile(directory / export.file_name, "w") as package:
            package.writestr("README.txt", "Research export")
        export.status = ResearchStatus.READY
        export.size_bytes = (directory / export.file_name).stat().st_size
        export.expires_at = utcnow() + timedelta(days=7)
        session.flush()
        token = service.download_link_token(export, researcher)
    session.commit()
    return {"research_export": export.id, "research_token": token}


def research_state(session) -> tuple:
    """What the research routes could change: requests, their downloads, projects, audits."""
    return (
        tuple(
            session.execute(
                sa.select(ResearchExport.id, ResearchExport.status, ResearchExport.downloads)
            )
        ),
        tuple(session.scalars(sa.select(ResearchProject.name).order_by(ResearchProject.id))),
        _research_audits(session),
    )


@pytest.fixture(autouse=True)
def export_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "RESEARCH_EXPORT_DIR", str(tmp_path / "exports"))
    return tmp_path / "exports"


@pytest.fixture
def survey(db_session, people, lyon):
    made = research_survey(db_session, people["platform_admin"], lyon)
    db_session.commit()
    return made


def _build(app, db_session) -> dict:
    """One run of the scheduler's job, as the scheduler process would run it."""
    with app.app_context():
        counts = research_exports(db.session)
    db_session.expire_all()
    return counts


def _count(db_session, model) -> int:
    return db_session.scalar(sa.select(sa.func.count()).select_from(model))


def _research_audits(db_session) -> list[str]:
    query = sa.select(AuditEntry.action).where(AuditEntry.action.startswith("research."))
    return list(db_session.scalars(query.order_by(AuditEntry.id)))


def _form(survey, **changes) -> dict:
    data = {
        "purpose": PURPOSE,
        "project": "",
        "locale": "en",
        "k": "10",
        "l": "2",
        "min_cell": "10",
        "starts_on": "",
        "ends_on": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _new(survey) -> str:
    return f"{RESEARCH}/new?dataset=survey&subject={survey.id}"


# --- requesting --------------------------------------------------------------------------


def test_the_request_goes_in_steps(as_person, survey):
    researcher = as_person("researcher")
    first = unescape(html(researcher.get(f"{RESEARCH}/new")))
    assert 'name="dataset" value="survey"' in first
    assert "A campaign's workshop participation" in first
    second = unescape(html(researcher.get(f"{RESEARCH}/new?dataset=survey")))
    assert f'<option value="{survey.id}">Your heating</option>' in second
    third = unescape(html(researcher.get(_new(survey))))
    # The survey's questions, to mark as quasi-identifiers or sensitive; free text is not.
    assert 'name="quasi" type="checkbox" value="heating"' in third
    assert 'name="sensitive" type="checkbox" value="comfort"' in third
    assert 'value="comment"' not in third
    assert 'id="k" inputmode="numeric" maxlength="4" name="k" type="text" value="10"' in third
    energy = unescape(html(researcher.get(f"{RESEARCH}/new?dataset=energy")))
    assert '<option value="city">The whole city</option>' in energy


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("?dataset=letters", 400),
        ("?dataset=survey&subject=abc", 400),
        ("?dataset=survey&subject=city", 400),
        ("?dataset=survey&sort=1", 400),
        ("?dataset=survey&subject=999999", 404),
    ],
)
def test_an_address_the_console_never_makes_is_refused(as_person, survey, query, status):
    assert as_person("researcher").get(f"{RESEARCH}/new{query}").status_code == status


def _in_german(value):
    """A copy of a definition with its French texts as German ones (for Vienna)."""
    if isinstance(value, dict):
        return {("de" if key == "fr" else key): _in_german(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_in_german(item) for item in value]
    return value


def test_a_survey_not_offered_cannot_be_chosen(as_person, people, lyon, vienna, survey, db_session):
    operator = people["platform_admin"]
    campaign = published_campaign(db_session, operator, vienna, slug="wien")
    elsewhere = make_survey(db_session, operator, campaign, definition=_in_german(DEFINITION))
    unanswered = make_survey(db_session, operator, survey.campaign)
    db_session.commit()
    researcher = as_person("researcher")
    for other in (elsewhere, unanswered):
        path = f"{RESEARCH}/new?dataset=survey&subject={other.id}"
        assert researcher.get(path).status_code == 404
        response = post_form(researcher, path, _form(other), page=_new(survey))
        assert response.status_code == 404
    assert _count(db_session, ResearchExport) == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"purpose": "Too short"}, "purpose", "Describe the purpose in 20 to 2000 characters."),
        ({"k": "3"}, "k", "Enter a number from 10 to 1000."),
        ({"k": "ten"}, "k", "Enter a whole number."),
        ({"l": "12"}, "l", "l cannot be larger than k."),
        ({"ends_on": "2020-01-01", "starts_on": "2021-01-01"}, "ends_on", "must not be before"),
        ({"starts_on": "01/02/2021"}, "starts_on", "Enter a date as YYYY-MM-DD."),
        ({"formats": "xlsx"}, "formats", "Choose formats from the list."),
        ({"quasi": "nothing"}, "quasi", "Choose questions from the list."),
        (
            {"quasi": "heating", "sensitive": "heating"},
            "sensitive",
            "both a quasi-identifier and sensitive",
        ),
        ({"project": "abc"}, "project", "Choose an open project of this city."),
        ({"project": "999999"}, "project", "Choose an open project of this city."),
        ({"locale": "xx"}, "locale", "Choose a language from the list."),
    ],
)
def test_a_bad_request_shows_why_and_creates_nothing(
    as_person, db_session, survey, changes, field, message
):
    researcher = as_person("researcher")
    response = post_form(researcher, _new(survey), _form(survey, **changes), page=_new(survey))
    assert response.status_code == 422
    page = unescape(html(response))
    assert "Nothing is requested yet. Please correct the marked fields." in page
    assert message in page
    if field != "locale":
        # Next to its field, announced with it.
        assert f'id="{field}-errors"' in page
    assert _count(db_session, ResearchExport) == 0
    assert _research_audits(db_session) == []


def test_a_good_request_creates_one_export_and_shows_its_progress(
    as_person, people, db_session, survey
):
    researcher = as_person("researcher")
    data = _form(survey, quasi="comfort", formats=["sav", "dta"], include_text="y")
    response = post_form(researcher, _new(survey), data, page=_new(survey))
    assert response.status_code == 303
    export = db_session.scalars(sa.select(ResearchExport)).one()
    assert response.location.endswith(f"{RESEARCH}/{export.id}")
    assert export.requested_by_id == people["researcher"].id
    assert export.subject_id == survey.id and export.locale == "en"
    assert export.options["quasi"] == ["comfort"] and export.options["formats"] == ["sav", "dta"]
    assert export.options["include_text"] is True
    assert export.status == ResearchStatus.PENDING
    assert _research_audits(db_session) == ["research.export.request"]
    page = unescape(html(researcher.get(response.location)))
    assert "Your request is recorded." in page
    assert '<meta http-equiv="refresh" content="5">' in page
    assert '<progress id="progress" max="100" value="0">' in page
    assert "Waiting for the scheduler" in page
    export.status, export.stage, export.progress = ResearchStatus.RUNNING, "anonymising", 40
    db_session.commit()
    page = unescape(html(researcher.get(response.location)))
    assert '<progress id="progress" max="100" value="40">' in page and "Anonymising" in page
    listing = unescape(html(researcher.get(RESEARCH)))
    assert f"Export {export.id}" in listing and "Being built" in listing


def test_a_table_of_counts_asks_for_its_minimum_cell(as_person, db_session, survey):
    researcher = as_person("researcher")
    path = f"{RESEARCH}/new?dataset=energy&subject=city"
    page = html(researcher.get(path))
    assert 'name="min_cell"' in page
    assert 'name="k"' not in page and 'name="include_text"' not in page
    response = post_form(researcher, path, _form(survey, min_cell="2"), page=path)
    assert response.status_code == 422
    assert 'id="min_cell-errors"' in html(response)
    assert "Enter a number from 10 to 1000." in html(response)
    assert _count(db_session, ResearchExport) == 0


def test_an_export_of_the_whole_city_has_no_subject(as_person, db_session, survey):
    researcher = as_person("researcher")
    path = f"{RESEARCH}/new?dataset=energy&subject=city"
    response = post_form(researcher, path, _form(survey), page=path)
    assert response.status_code == 303
    export = db_session.scalars(sa.select(ResearchExport)).one()
    assert export.dataset == "energy" and export.subject_id is None


def test_a_project_may_be_chosen(app, as_person, people, lyon, db_session, survey):
    session = db_session()
    with app.app_context():
        with_project = projects.create_project(session, people["researcher"], lyon, "Chaleur", "")
    db_session.commit()
    researcher = as_person("researcher")
    page = html(researcher.get(_new(survey)))
    assert f'<option value="{with_project.id}">Chaleur</option>' in page
    data = _form(survey, project=str(with_project.id))
    assert post_form(researcher, _new(survey), data, page=_new(survey)).status_code == 303
    assert db_session.scalar(sa.select(ResearchExport.project_id)) == with_project.id


# --- reading and downloading -------------------------------------------------------------


@pytest.fixture
def ready(app, db_session, people, lyon, survey):
    export = requested_export(app, db_session(), people["researcher"], lyon, survey)
    db_session.commit()
    assert _build(app, db_session)["built"] == 1
    db_session.refresh(export)
    assert export.status == ResearchStatus.READY, export.report
    return export


def _link(page: str) -> str:
    return unescape(page.split('class="button primary" href="')[1].split('"')[0])


def test_the_report_and_the_link_are_shown_to_the_requester(as_person, ready, people):
    researcher = as_person("researcher")
    page = unescape(html(researcher.get(f"{RESEARCH}/{ready.id}")))
    assert "http-equiv" not in page
    assert "passed the anonymity check" in page
    assert "Records considered</dt><dd>14" in page
    assert "Left out without research consent</dt><dd>2" in page
    assert "Records released</dt><dd>12" in page
    assert "k achieved</dt><dd>12" in page
    assert "What the anonymity check measured in the files" in page
    assert "This link works for 15 minutes and only for you." in page
    # Researchers see no names, not even their own as requester.
    assert "Requested by" not in page
    response = researcher.get(_link(page))
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=research-export-{ready.id}.zip"
    )
    assert response.headers["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as package:
        names = package.namelist()
    response.close()
    assert {"README.txt", "report.json", "codebook.csv", "datapackage.json"} <= set(names)
    for person in ("Respondent 0", "research.0@lyon.example"):
        assert person not in page


def test_a_download_is_counted_and_audited(as_person, ready, db_session):
    researcher = as_person("researcher")
    link = _link(html(researcher.get(f"{RESEARCH}/{ready.id}")))
    researcher.get(link).close()
    db_session.refresh(ready)
    assert ready.downloads == 1
    assert _research_audits(db_session)[-1] == "research.export.download"


def test_admins_read_everyones_requests_but_download_nothing(as_person, ready, people):
    admin = as_person("admin")
    listing = unescape(html(admin.get(RESEARCH)))
    assert "Requested by" in listing and "Researcher@Lyon.Example" not in listing
    assert people["researcher"].display_name in listing
    assert "New research export" not in listing
    page = unescape(html(admin.get(f"{RESEARCH}/{ready.id}")))
    assert "Only the researcher who asked for it may download it." in page
    assert "Download the export" not in page
    assert "Records released</dt><dd>12" in page
    link = _link(html(as_person("researcher").get(f"{RESEARCH}/{ready.id}")))
    assert admin.get(link).status_code == 403


def test_another_researcher_neither_sees_nor_downloads_it(
    as_person, new_client, open_session, make_person, lyon, ready
):
    other = open_session(
        new_client(), make_person(lyon, "other.researcher@lyon.example", Role.RESEARCHER)
    )
    assert other.get(f"{RESEARCH}/{ready.id}").status_code == 404
    assert f"Export {ready.id}" not in html(other.get(RESEARCH))
    link = _link(html(as_person("researcher").get(f"{RESEARCH}/{ready.id}")))
    response = other.get(link)
    assert response.status_code == 404
    assert "Not found." in html(response)


def test_an_expired_link_or_export_is_gone(app, as_person, ready, people, db_session):
    researcher = as_person("researcher")
    past = utcnow() - timedelta(hours=1)
    with app.app_context():
        token = service.download_link_token(ready, people["researcher"], now=past)
        fresh = service.download_link_token(ready, people["researcher"])
    response = researcher.get(f"{RESEARCH}/{ready.id}/download?token={token}")
    assert response.status_code == 410
    assert "This download link has expired." in html(response)
    ready.expires_at = utcnow() - timedelta(minutes=1)
    db_session.commit()
    response = researcher.get(f"{RESEARCH}/{ready.id}/download?token={fresh}")
    assert response.status_code == 410
    assert "This export has expired" in html(response)
    # The page offers no link any more, even before the scheduler erases the file.
    page = unescape(html(researcher.get(f"{RESEARCH}/{ready.id}")))
    assert "Download the export" not in page
    assert "The file has expired and was deleted." in page


@pytest.mark.parametrize("token", ["", "abc", "1.2", "9999999999." + "0" * 64])
def test_a_forged_token_finds_nothing(as_person, ready, token):
    response = as_person("researcher").get(f"{RESEARCH}/{ready.id}/download?token={token}")
    assert response.status_code == 404


@pytest.mark.parametrize("dataset", ["ideas", "workshops", "energy"])
def test_the_report_of_every_kind_of_export_is_shown(
    app, as_person, people, lyon, survey, db_session, dataset
):
    session = db_session()
    with app.app_context():
        export = service.request_export(
            session,
            people["researcher"],
            lyon,
            dataset=dataset,
            subject_id=survey.campaign_id,
            purpose=PURPOSE,
            options=ExportOptions(k=10, l=2, min_cell=10, include_text=True),
            locale="fr",
            project_id=None,
        )
    db_session.commit()
    _build(app, db_session)
    db_session.refresh(export)
    assert export.status in (ResearchStatus.READY, ResearchStatus.BLOCKED), export.error
    response = as_person("researcher").get(f"{RESEARCH}/{export.id}")
    assert response.status_code == 200
    page = unescape(html(response))
    assert "What the anonymity check measured in the files" in page
    assert "Records considered" in page
    assert "http-equiv" not in page


def test_a_blocked_export_explains_itself(as_person, ready, db_session):
    # As the job leaves one the check found short: no file, the check's measure in the report.
    measures = [{"resource": "responses", "records": 12, "k": 3, "l": None, "passed": False}]
    measures[0]["problems"] = ["k=3<10"]
    ready.status, ready.file_name, ready.size_bytes = ResearchStatus.BLOCKED, None, None
    ready.report = {**ready.report, "check": {"passed": False, "measures": measures}}
    db_session.commit()
    page = unescape(html(as_person("researcher").get(f"{RESEARCH}/{ready.id}")))
    assert "found them short of the protection asked for" in page
    assert "<code>k=3<10</code>" in page
    assert "Download the export" not in page


# --- projects ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["researcher", "admin"])
def test_projects_are_listed_and_created(as_person, db_session, who):
    person = as_person(who)
    page = unescape(html(person.get(f"{RESEARCH}/projects")))
    assert "Exports that belong to one project share the key" in page
    assert "This city has no research project yet." in page
    data = {"name": "Chaleur 2026", "description": "Confort et chauffage."}
    response = post_form(person, f"{RESEARCH}/projects", data, page=f"{RESEARCH}/projects")
    assert response.status_code == 303
    page = unescape(html(person.get(response.location)))
    assert "The project “Chaleur 2026” is created." in page
    assert "Confort et chauffage." in page
    again = post_form(person, f"{RESEARCH}/projects", data, page=f"{RESEARCH}/projects")
    assert again.status_code == 422
    assert "A project of this city already has this name." in unescape(html(again))
    assert _count(db_session, ResearchProject) == 1


def test_a_project_needs_a_name(as_person, db_session):
    researcher = as_person("researcher")
    path = f"{RESEARCH}/projects"
    response = post_form(researcher, path, {"name": " ", "description": ""}, page=path)
    assert response.status_code == 422
    assert 'id="name-errors"' in html(response)
    assert _count(db_session, ResearchProject) == 0


# --- every page ----------------------------------------------------------------------------


def test_every_research_page_is_labelled_and_runs_nothing_inline(as_person, ready, survey):
    pages = [
        ("researcher", RESEARCH),
        ("admin", RESEARCH),
        ("researcher", f"{RESEARCH}/new"),
        ("researcher", f"{RESEARCH}/new?dataset=survey"),
        ("researcher", _new(survey)),
        ("researcher", f"{RESEARCH}/new?dataset=workshops&subject={survey.campaign_id}"),
        ("researcher", f"{RESEARCH}/{ready.id}"),
        ("admin", f"{RESEARCH}/{ready.id}"),
        ("researcher", f"{RESEARCH}/projects"),
    ]
    for who, path in pages:
        response = as_person(who).get(path)
        assert response.status_code == 200, path
        audit = _audit(html(response))
        assert [c for c in audit.controls if c.get("id") not in audit.labels] == [], path
        assert audit.inline_scripts == 0 and audit.styled == [], path
        assert audit.h1 == 1, path
    refused = post_form(
        as_person("researcher"), _new(survey), _form(survey, k="1"), page=_new(survey)
    )
    audit = _audit(html(refused))
    assert [c for c in audit.controls if c.get("id") not in audit.labels] == []
    assert any(c.get("aria-invalid") == "true" for c in audit.controls)
