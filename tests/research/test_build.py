"""The export job: it claims the oldest request, builds the package from the dataset's rows
(pseudonyms keyed per export or project, text scrubbed or left out, quasi-identifiers
generalised), lets the independent check measure it, and records READY, BLOCKED or FAILED;
the requester is told, files expire, the work directory never stays."""

import csv
import hashlib
import io
import json
import stat
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit import AuditEntry
from app.db import utcnow
from app.models import Role
from notifications.models import Notification
from research import build, projects, service
from research.jobs import STALE, ProgressWriter, research_exports
from research.models import DatasetKind, ResearchExport, ResearchStatus
from research.options import ExportOptions
from tests.research.survey_world import seed_survey
from tests.surveys.helpers import make_survey

pytestmark = pytest.mark.usefixtures("in_app")

PURPOSE = "Comfort and heating systems in Lyon, for a study of winter comfort."


@pytest.fixture
def export_dir(app, tmp_path, monkeypatch):
    directory = tmp_path / "exports"
    monkeypatch.setitem(app.config, "RESEARCH_EXPORT_DIR", str(directory))
    return directory


@pytest.fixture
def world(db_session, lyon, make_user, moderator, campaign, operator, export_dir):
    survey = make_survey(db_session, moderator, campaign)
    seeded = seed_survey(
        db_session, lyon, survey, operator(lyon), count=90, without_consent=12, withdrawn=6
    )
    seeded.researcher = make_user(lyon, role=Role.RESEARCHER)
    db_session.commit()
    return seeded


def request(db_session, world, project_id=None, **values) -> ResearchExport:
    export = service.request_export(
        db_session,
        world.researcher,
        world.city,
        dataset=DatasetKind.SURVEY,
        subject_id=world.survey.id,
        purpose=PURPOSE,
        options=ExportOptions(**{"k": 10, "l": 2, "min_cell": 10, **values}),
        locale="fr",
        project_id=project_id,
    )
    db_session.commit()
    return export


def run(db_session, now=None) -> dict:
    outcome = research_exports(db_session, now=now)
    db_session.expire_all()
    return outcome


def package(export_dir, export) -> zipfile.ZipFile:
    return zipfile.ZipFile(export_dir / export.file_name)


def responses(archive: zipfile.ZipFile) -> list[dict]:
    text = archive.read("data/responses.csv").decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_pseudonyms_are_keyed():
    first, again, other = (
        build.pseudonymiser(b"k" * 32),
        build.pseudonymiser(b"k" * 32),
        build.pseudonymiser(b"x" * 32),
    )
    assert first("u:1") == again("u:1") != other("u:1")
    assert len(first("u:1")) == 16 and int(first("u:1"), 16) >= 0
    assert first("u:1") != first("u:2")
    assert first(None) is None


def test_the_job_builds_a_ready_package(db_session, world, export_dir):
    export = request(db_session, world, include_text=True, formats=["sav", "dta"])
    assert run(db_session)["built"] == 1
    db_session.refresh(export)
    assert export.status == ResearchStatus.READY, export.report
    assert (export.stage, export.progress) == ("done", 100)
    path = export_dir / export.file_name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert export.size_bytes == path.stat().st_size
    assert export.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert export.expires_at == export.finished_at + timedelta(days=7)
    # Only the package is left: the work directory went.
    assert [p.name for p in export_dir.iterdir()] == [export.file_name]
    archive = package(export_dir, export)
    assert {
        "README.txt",
        "report.json",
        "codebook.csv",
        "datapackage.json",
        "data/responses.csv",
        "data/responses.sav",
        "data/responses.dta",
    } == set(archive.namelist())
    report = json.loads(archive.read("report.json"))
    assert report == export.report
    part = report["resources"][0]
    assert part["records"] == len(world.consenting)
    assert part["notes"]["records_without_consent"] == 90 - len(world.consenting)
    assert part["released"] + sum(part["suppressed"].values()) == part["records"]
    assert report["k_achieved"] >= 10
    assert report["check"]["passed"] is True
    assert report["requester_role"] == "researcher"
    assert world.researcher.email not in json.dumps(report)
    rows = responses(archive)
    assert len(rows) == part["released"]
    assert all(len(r["respondent"]) == 16 for r in rows)
    # The comment's e-mail address went, replaced; the neighbour's name too.
    comments = " ".join(r["q_comment"] for r in rows)
    assert "@" not in comments and world.named not in comments
    assert report["text_replacements"]
    readme = archive.read("README.txt").decode("utf-8")
    assert PURPOSE in readme and "data/responses.csv" in readme
    told = db_session.scalars(
        sa.select(Notification.kind).where(Notification.user_id == world.researcher.id)
    ).all()
    assert told == ["research.export_ready"]


def test_free_text_is_left_out_unless_asked(db_session, world, export_dir):
    export = request(db_session, world)
    run(db_session)
    db_session.refresh(export)
    rows = responses(package(export_dir, export))
    assert rows and not any(name.startswith("q_comment") for name in rows[0])
    assert "q_heating_other_text" not in rows[0]


def test_each_export_has_its_own_pseudonyms_unless_a_project_shares_them(
    db_session, world, export_dir
):
    project = projects.create_project(db_session, world.researcher, world.city, "Confort", "")
    db_session.commit()
    exports = [request(db_session, world, project_id=project.id) for _ in range(2)]
    exports += [request(db_session, world) for _ in range(2)]
    for _ in exports:
        run(db_session)
    pseudonyms = []
    for export in exports:
        db_session.refresh(export)
        pseudonyms.append({r["respondent"] for r in responses(package(export_dir, export))})
    assert pseudonyms[0] == pseudonyms[1]  # the project's key
    assert not pseudonyms[0] & pseudonyms[2]
    assert not pseudonyms[2] & pseudonyms[3]


def test_a_package_the_check_finds_short_is_blocked(db_session, world, export_dir, monkeypatch):
    # An anonymiser that forgot to generalise: the check, reading the files, catches it.
    monkeypatch.setattr(build, "apply", lambda table, plan: table.rows())
    export = request(db_session, world)
    assert run(db_session)["blocked"] == 1
    db_session.refresh(export)
    assert export.status == ResearchStatus.BLOCKED
    assert export.file_name is None and list(export_dir.iterdir()) == []
    assert export.report["check"]["passed"] is False
    problems = export.report["check"]["measures"][0]["problems"]
    assert problems and problems[0].startswith("k=")
    entry = db_session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "research.export.blocked")
    )
    assert entry.subject_id == export.id and entry.actor_id is None
    assert db_session.scalar(
        sa.select(Notification.kind).where(Notification.user_id == world.researcher.id)
    )


def test_a_build_that_breaks_is_marked_failed(db_session, world, export_dir):
    export = request(db_session, world)
    db_session.execute(
        sa.update(ResearchExport).where(ResearchExport.id == export.id).values(subject_id=10**9)
    )
    db_session.commit()
    assert run(db_session)["failed"] == 1
    db_session.refresh(export)
    assert (export.status, export.error) == (ResearchStatus.FAILED, "build-failed")
    assert list(export_dir.iterdir()) == []


def test_one_export_per_run_oldest_first_and_a_dead_run_is_taken_again(db_session, world):
    first, second = request(db_session, world), request(db_session, world)
    now = utcnow()
    run(db_session, now)
    db_session.refresh(first)
    db_session.refresh(second)
    assert (first.status, second.status) == (ResearchStatus.READY, ResearchStatus.PENDING)
    # Another scheduler took the second one a moment ago: not taken.
    second.status, second.started_at = ResearchStatus.RUNNING, now
    db_session.commit()
    assert run(db_session, now + timedelta(minutes=1))["built"] == 0
    # Its process died: after STALE it is built again.
    assert run(db_session, now + STALE + timedelta(minutes=1))["built"] == 1
    db_session.refresh(second)
    assert second.status == ResearchStatus.READY


def test_files_expire_with_their_exports(db_session, world, export_dir):
    export = request(db_session, world)
    run(db_session)
    db_session.refresh(export)
    assert run(db_session, export.expires_at + timedelta(seconds=1))["expired"] == 1
    db_session.refresh(export)
    assert export.status == ResearchStatus.EXPIRED and export.file_name is None
    assert list(export_dir.iterdir()) == []
    assert export.report["check"]["passed"] is True  # the report stays


def test_progress_is_reported_by_stage(db_session, world, export_dir):
    export = request(db_session, world)
    seen = []
    outcome = build.build_export(
        db_session, export, lambda stage, percent: seen.append((stage, percent)), utcnow()
    )
    stages = [stage for stage, _percent in seen]
    assert stages[0] == "reading" and stages[-1] == "packing"
    assert {"anonymising", "writing", "checking"} <= set(stages)
    assert [p for _s, p in seen] == sorted(p for _s, p in seen)
    assert outcome.passed
    service.erase_file(outcome.file_name)


def test_the_progress_writer_writes_the_stage(db_session, world):
    export = request(db_session, world)
    write = ProgressWriter(db_session, export.id)
    write("writing", 40)
    db_session.expire_all()
    assert (export.stage, export.progress) == ("writing", 40)
