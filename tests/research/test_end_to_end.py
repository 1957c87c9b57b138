"""The research export, end to end: a researcher requests an export of a survey of 1,000
responses in the console, the scheduler's job builds it, the researcher downloads the ZIP.

The package passes ``frictionless validate``; its k, measured here from the files, is at
least 10; no direct identifier or personal data seeded in the answers is anywhere in it; the
respondents without research consent are not in it; nobody else can download it, nor can the
researcher once it expired; the audit log has the request and the download.
"""

import csv
import html as markup
import io
import json
import re
import subprocess
import sys
import zipfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.accounts import issue_token
from app.audit import AuditEntry
from app.db import utcnow
from app.extensions import db
from app.models import AccessToken, Role, TokenKind, User
from research.check import check_package
from research.jobs import research_exports
from research.models import ResearchExport, ResearchStatus
from tests.console.helpers import html, sign_in, token_in
from tests.research.survey_world import OUT_OF_CONSENT, seed_survey
from tests.surveys.helpers import make_survey

PURPOSE = "Winter comfort and heating systems of Lyon households (PhD thesis, chapter 3)."
FRICTIONLESS = Path(sys.executable).with_name("frictionless")
DAY = timedelta(days=1)
_LINK = re.compile(r'href="([^"]*/download\?token=[^"]*)"')


@pytest.fixture
def export_dir(app, tmp_path, monkeypatch):
    directory = tmp_path / "exports"
    monkeypatch.setitem(app.config, "RESEARCH_EXPORT_DIR", str(directory))
    return directory


@pytest.fixture
def world(db_session, lyon, make_user, moderator, campaign, operator, export_dir):
    survey = make_survey(db_session, moderator, campaign)
    seeded = seed_survey(
        db_session, lyon, survey, operator(lyon), count=1000, without_consent=100, withdrawn=50
    )
    seeded.researcher = make_user(lyon, role=Role.RESEARCHER, email="rita.chercheuse@example.org")
    seeded.colleague = make_user(lyon, role=Role.RESEARCHER, email="colin.collegue@example.org")
    # Respondents signed in on their phones: their tokens must not travel either.
    seeded.tokens = [
        issue_token(
            db_session, db_session.get(User, user_id), TokenKind.API, DAY, "phone", utcnow()
        )
        for user_id in seeded.respondents[:5]
    ]
    db_session.commit()
    return seeded


def run_job(app, now=None) -> dict:
    with app.app_context():
        return research_exports(db.session, now=now)


def request_in_console(client, world) -> None:
    page = f"/console/lyon/research/new?dataset=survey&subject={world.survey.id}"
    form = client.get(page)
    assert form.status_code == 200, html(form)
    answer = client.post(
        page,
        data={
            "csrf_token": token_in(html(form)),
            "purpose": PURPOSE,
            "project": "",
            "locale": "fr",
            "k": "10",
            "l": "2",
            "min_cell": "10",
            "include_text": "y",
            "formats": ["sav", "dta"],
            "sensitive": ["heating"],
        },
    )
    assert answer.status_code == 303, html(answer)


def download_link(client, export: ResearchExport) -> str:
    page = client.get(f"/console/lyon/research/{export.id}")
    assert page.status_code == 200
    found = _LINK.search(html(page))
    assert found, "no download link on the export's page"
    return markup.unescape(found.group(1))


def measured_k_and_l(directory: Path) -> tuple[int, int, int]:
    """k, l and the records of the responses, computed here from the files alone."""
    descriptor = json.loads((directory / "datapackage.json").read_text(encoding="utf-8"))
    [resource] = descriptor["resources"]
    fields = resource["schema"]["fields"]
    quasi = [f["name"] for f in fields if f["role"] == "quasi"]
    sensitive = [f["name"] for f in fields if f["role"] == "sensitive"]
    assert {"submitted", "district", "household_size", "dwelling_type"} <= set(quasi)
    assert sensitive == ["q_heating"]
    with (directory / resource["path"]).open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    groups = Counter(tuple(r[q] for q in quasi) for r in rows)
    values: dict[tuple, set] = {}
    for r in rows:
        values.setdefault(tuple(r[q] for q in quasi), set()).add(r["q_heating"])
    return min(groups.values()), min(len(v) for v in values.values()), len(rows)


def test_a_researcher_exports_a_survey_of_1000_responses(
    app, client, db_session, world, export_dir, tmp_path
):
    sign_in(client, world.researcher)
    request_in_console(client, world)
    export = db_session.scalar(sa.select(ResearchExport))
    assert export.status == ResearchStatus.PENDING

    assert run_job(app)["built"] == 1
    db_session.refresh(export)
    assert export.status == ResearchStatus.READY, export.report

    link = download_link(client, export)
    answer = client.get(link)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/zip"
    assert answer.headers["Cache-Control"] == "no-store"
    content = answer.get_data()
    answer.close()

    # The package: valid, k and l as asked, measured here and by the check.
    unpacked = tmp_path / "unpacked"
    archive = zipfile.ZipFile(io.BytesIO(content))
    archive.extractall(unpacked)
    assert {"README.txt", "report.json", "codebook.csv", "datapackage.json"} <= set(
        archive.namelist()
    )
    validated = subprocess.run(
        [str(FRICTIONLESS), "validate", "datapackage.json"],
        cwd=unpacked,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
    k, l_diversity, records = measured_k_and_l(unpacked)
    assert k >= 10 and l_diversity >= 2
    assert all(m.passed for m in check_package(unpacked, 10, 2, 10))

    # Only the 850 consenting respondents were considered; some may have been suppressed.
    report = json.loads(archive.read("report.json"))
    part = report["resources"][0]
    assert len(world.consenting) == 850
    assert part["records"] == 850
    assert part["notes"]["records_without_consent"] == 150
    assert records == part["released"] == 850 - sum(part["suppressed"].values())
    assert records >= 800

    # Nothing that names anyone, in any file of the ZIP.
    everything = b"\n".join(archive.read(name) for name in archive.namelist())
    people = db_session.execute(sa.select(User.id, User.email, User.display_name)).all()
    unwanted = [OUT_OF_CONSENT, *world.pii, world.named, *world.tokens]
    for user_id, email, name in people:
        unwanted += [email, f"u:{user_id}"]
        if name:
            unwanted.append(name)
    unwanted += db_session.scalars(sa.select(AccessToken.token_hash)).all()
    found = [item for item in set(unwanted) if item.encode("utf-8") in everything]
    assert found == []
    assert report["text_replacements"]["email"] > 0

    # Nobody else: a colleague with the same link, not even knowing it exists.
    other = app.test_client()
    sign_in(other, world.colleague)
    assert other.get(link).status_code == 404
    assert other.get(f"/console/lyon/research/{export.id}").status_code == 404

    # After its days the file is erased, and the link says so.
    later = export.expires_at + timedelta(seconds=1)
    assert run_job(app, now=later)["expired"] == 1
    assert client.get(link).status_code == 410
    assert list(export_dir.iterdir()) == []

    actions = db_session.execute(
        sa.select(AuditEntry.action, AuditEntry.actor_id)
        .where(AuditEntry.subject_type == "research_export", AuditEntry.subject_id == export.id)
        .order_by(AuditEntry.id)
    ).all()
    assert actions == [
        ("research.export.request", world.researcher.id),
        ("research.export.download", world.researcher.id),
    ]
    entry = db_session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "research.export.request")
    )
    assert entry.reason == PURPOSE
    assert export.requested_at <= utcnow()
