"""Requesting research exports, who sees them, the short-lived download link, projects and
expiry: only a researcher of the city asks, only the requester downloads, everything audited,
and a refusal changes nothing."""

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.audit import AuditEntry
from app.db import utcnow
from app.errors import Gone, Invalid, NotAllowed, NotFound
from app.models import Role
from app.sealed import unseal
from research import projects, service
from research.models import DatasetKind, ResearchExport, ResearchProject, ResearchStatus
from research.options import ExportOptions
from tests.surveys.helpers import DEFINITION, make_survey, published_campaign

pytestmark = pytest.mark.usefixtures("in_app")

PURPOSE = "Heating habits of households in the renovation area, for a thesis."


@pytest.fixture
def export_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "RESEARCH_EXPORT_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def world(db_session, lyon, vienna, make_user, moderator, campaign):
    people = {
        "researcher": make_user(lyon, role=Role.RESEARCHER),
        "colleague": make_user(lyon, role=Role.RESEARCHER),
        "admin": make_user(lyon, role=Role.ADMIN),
        "moderator": moderator,
        "staff": make_user(lyon, role=Role.STAFF),
        "resident": make_user(lyon),
        "platform_admin": make_user(lyon, platform_admin=True),
        "vienna_researcher": make_user(vienna, role=Role.RESEARCHER),
        # A researcher of Vienna who lives in Lyon: roles count per city, not home.
        "lyon_resident_researching_vienna": make_user(lyon, role=Role.RESEARCHER, role_city=vienna),
    }
    vienna_moderator = make_user(vienna, role=Role.MODERATOR)
    survey = make_survey(db_session, moderator, campaign)
    vienna_survey = make_survey(
        db_session,
        vienna_moderator,
        published_campaign(db_session, vienna_moderator, vienna),
        definition=json.loads(json.dumps(DEFINITION).replace('"fr":', '"de":')),
    )
    db_session.commit()
    return {"people": people, "survey": survey, "vienna_survey": vienna_survey}


def options(**values) -> ExportOptions:
    return ExportOptions(**{"k": 10, "l": 2, "min_cell": 10, **values})


def ask(db_session, user, city, **values):
    arguments = {
        "dataset": DatasetKind.SURVEY,
        "subject_id": None,
        "purpose": PURPOSE,
        "options": options(),
        "locale": "fr",
        "project_id": None,
    }
    return service.request_export(db_session, user, city, **{**arguments, **values})


def counts(db_session) -> tuple[int, int]:
    return (
        db_session.scalar(sa.select(sa.func.count()).select_from(ResearchExport)),
        db_session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)),
    )


# --- requests ----------------------------------------------------------------------------


def test_a_researcher_requests_an_export(db_session, lyon, world):
    researcher = world["people"]["researcher"]
    survey = world["survey"]
    export = ask(
        db_session,
        researcher,
        lyon,
        subject_id=survey.id,
        purpose=f"  {PURPOSE}  ",
        options=options(k=12, formats=["sav"]),
    )
    db_session.commit()
    assert export.status == ResearchStatus.PENDING
    assert export.requested_by_id == researcher.id and export.city_id == lyon.id
    assert export.purpose == PURPOSE  # stripped
    assert ExportOptions.from_json(export.options) == options(k=12, formats=["sav"])
    entry = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.subject_id == export.id))
    assert entry.action == "research.export.request"
    assert entry.subject_type == "research_export"
    assert entry.actor_id == researcher.id and entry.city_id == lyon.id
    assert entry.reason == PURPOSE
    assert entry.details["dataset"] == "survey"
    assert entry.details["subject_id"] == survey.id
    assert entry.details["purpose_length"] == len(PURPOSE)
    assert entry.details["options"]["k"] == 12


@pytest.mark.parametrize(
    "who",
    [
        "resident",
        "moderator",
        "staff",
        "admin",
        "platform_admin",
        "vienna_researcher",
        "lyon_resident_researching_vienna",
    ],
)
def test_only_a_researcher_of_the_city_may_request(db_session, lyon, world, who):
    before = counts(db_session)
    with pytest.raises(NotAllowed):
        ask(db_session, world["people"][who], lyon, subject_id=world["survey"].id)
    assert counts(db_session) == before


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"purpose": "For a thesis"}, "purpose"),  # under 20 characters
        ({"purpose": " " * 30}, "purpose"),
        ({"purpose": "x" * 2001}, "purpose"),
        ({"dataset": "everything"}, "dataset"),
        ({"subject_id": None}, "subject_id"),
        ({"subject_id": 10**9}, "subject_id"),
        ({"subject_id": 2**40}, "subject_id"),  # beyond any id: refused before a query
        ({"subject_id": -1}, "subject_id"),
        ({"locale": "xx"}, "locale"),
        ({"project_id": 10**9}, "project_id"),
        ({"project_id": 2**40}, "project_id"),
        ({"options": options(k=3)}, "k"),
        ({"options": options(quasi=["no_such_question"])}, "quasi"),
    ],
)
def test_bad_input_is_refused_field_by_field_and_nothing_is_created(
    db_session, lyon, world, values, field
):
    before = counts(db_session)
    arguments = {"subject_id": world["survey"].id, **values}
    with pytest.raises(Invalid) as caught:
        ask(db_session, world["people"]["researcher"], lyon, **arguments)
    assert field in caught.value.errors
    assert counts(db_session) == before


def test_a_survey_of_another_city_reads_as_unknown(db_session, lyon, world):
    with pytest.raises(Invalid) as caught:
        ask(db_session, world["people"]["researcher"], lyon, subject_id=world["vienna_survey"].id)
    assert list(caught.value.errors) == ["subject_id"]


def test_questions_can_be_marked_only_on_a_survey(db_session, lyon, world, campaign):
    with pytest.raises(Invalid) as caught:
        ask(
            db_session,
            world["people"]["researcher"],
            lyon,
            dataset=DatasetKind.IDEAS,
            subject_id=campaign.id,
            options=options(quasi=["heating"]),
        )
    assert list(caught.value.errors) == ["quasi"]


def test_errors_are_in_the_requesters_language(db_session, lyon, world, translate):
    with force_locale("fr"), pytest.raises(Invalid) as caught:
        ask(db_session, world["people"]["researcher"], lyon, purpose="court")
    expected = translate(
        "fr", "Describe the purpose in %(low)d to %(high)d characters.", low=20, high=2000
    )
    assert caught.value.errors["purpose"] == [expected]


def test_energy_may_cover_the_whole_city(db_session, lyon, world):
    export = ask(db_session, world["people"]["researcher"], lyon, dataset="energy", subject_id=None)
    assert export.dataset == "energy" and export.subject_id is None


def test_a_project_of_another_city_or_closed_is_refused(db_session, lyon, vienna, world):
    theirs = projects.create_project(
        db_session, world["people"]["vienna_researcher"], vienna, "Chauffage", ""
    )
    closed = projects.create_project(db_session, world["people"]["researcher"], lyon, "Old", "")
    closed.closed_at = utcnow()
    db_session.flush()
    for project in (theirs, closed):
        with pytest.raises(Invalid) as caught:
            ask(
                db_session,
                world["people"]["researcher"],
                lyon,
                subject_id=world["survey"].id,
                project_id=project.id,
            )
        assert list(caught.value.errors) == ["project_id"]


# --- who sees what -----------------------------------------------------------------------


def test_researchers_see_their_own_and_admins_see_all(db_session, lyon, world):
    people = world["people"]
    mine = ask(db_session, people["researcher"], lyon, subject_id=world["survey"].id)
    theirs = ask(db_session, people["colleague"], lyon, subject_id=world["survey"].id)
    assert service.exports_for(db_session, people["researcher"], lyon) == [mine]
    assert set(service.exports_for(db_session, people["admin"], lyon)) == {mine, theirs}
    assert service.get_export(db_session, people["admin"], lyon, mine.id) == mine
    with pytest.raises(NotFound):
        service.get_export(db_session, people["colleague"], lyon, mine.id)
    with pytest.raises(NotFound):
        service.get_export(db_session, people["resident"], lyon, mine.id)
    with pytest.raises(NotAllowed):
        service.exports_for(db_session, people["resident"], lyon)


# --- download links ----------------------------------------------------------------------


@pytest.fixture
def ready(db_session, lyon, world, export_dir):
    """A built export of the researcher, its file on disk."""
    export = ask(db_session, world["people"]["researcher"], lyon, subject_id=world["survey"].id)
    (export_dir / "abc123.zip").write_bytes(b"PK package")
    now = utcnow()
    export.status = ResearchStatus.READY
    export.file_name = "abc123.zip"
    export.size_bytes = 10
    export.finished_at = now
    export.expires_at = now + timedelta(days=7)
    db_session.commit()
    return export


def downloads(db_session, export) -> list[AuditEntry]:
    return list(
        db_session.scalars(
            sa.select(AuditEntry).where(
                AuditEntry.subject_id == export.id,
                AuditEntry.action == "research.export.download",
            )
        )
    )


def test_the_requester_downloads_with_the_link(db_session, lyon, world, ready, export_dir):
    researcher = world["people"]["researcher"]
    token = service.download_link_token(ready, researcher)
    export, path = service.open_download(db_session, researcher, lyon, ready.id, token)
    db_session.commit()
    assert path == export_dir / "abc123.zip"
    assert export.downloads == 1
    [entry] = downloads(db_session, ready)
    assert entry.actor_id == researcher.id and entry.city_id == lyon.id


def test_a_valid_link_may_be_used_again_each_time_audited(db_session, lyon, world, ready):
    researcher = world["people"]["researcher"]
    token = service.download_link_token(ready, researcher)
    service.open_download(db_session, researcher, lyon, ready.id, token)
    export, _path = service.open_download(db_session, researcher, lyon, ready.id, token)
    assert export.downloads == 2
    assert len(downloads(db_session, ready)) == 2


@pytest.mark.parametrize("who", ["colleague", "admin", "platform_admin", "resident"])
def test_nobody_else_downloads_even_with_the_requesters_link(db_session, lyon, world, ready, who):
    token = service.download_link_token(ready, world["people"]["researcher"])
    with pytest.raises(NotFound):
        service.download_link_token(ready, world["people"][who])
    with pytest.raises(NotFound):
        service.open_download(db_session, world["people"][who], lyon, ready.id, token)
    assert downloads(db_session, ready) == []


def test_a_changed_or_foreign_token_is_not_found(db_session, lyon, vienna, world, ready):
    researcher = world["people"]["researcher"]
    token = service.download_link_token(ready, researcher)
    expiry, digest = token.split(".")
    later = str(int(expiry) + 3600)
    flipped = digest[:-1] + ("0" if digest[-1] != "0" else "1")
    for forged in ("", "abc", f"{expiry}.{flipped}", f"{later}.{digest}", f"x.{digest}"):
        with pytest.raises(NotFound):
            service.open_download(db_session, researcher, lyon, ready.id, forged)
    with pytest.raises(NotFound):  # the export's id through another city
        service.open_download(db_session, researcher, vienna, ready.id, token)
    for impossible in (0, 2**40):
        with pytest.raises(NotFound):
            service.open_download(db_session, researcher, lyon, impossible, token)
        with pytest.raises(NotFound):
            service.get_export(db_session, researcher, lyon, impossible)
    assert downloads(db_session, ready) == []


def test_an_expired_link_is_gone(db_session, lyon, world, ready):
    researcher = world["people"]["researcher"]
    earlier = utcnow() - timedelta(minutes=16)  # RESEARCH_LINK_MINUTES is 15
    token = service.download_link_token(ready, researcher, now=earlier)
    with pytest.raises(Gone):
        service.open_download(db_session, researcher, lyon, ready.id, token)
    assert downloads(db_session, ready) == []


def test_after_the_exports_days_it_is_gone_and_erased(db_session, lyon, world, ready, export_dir):
    researcher = world["people"]["researcher"]
    token = service.download_link_token(ready, researcher)
    later = ready.expires_at + timedelta(seconds=1)
    with pytest.raises(Gone):  # past its days, even before the job erased it
        service.open_download(db_session, researcher, lyon, ready.id, token, now=later)
    assert service.expire(db_session, later) == 1
    db_session.commit()
    db_session.refresh(ready)
    assert ready.status == ResearchStatus.EXPIRED and ready.file_name is None
    assert not (export_dir / "abc123.zip").exists()
    with pytest.raises(Gone):
        service.open_download(db_session, researcher, lyon, ready.id, token)


@pytest.mark.parametrize(
    "status",
    [ResearchStatus.PENDING, ResearchStatus.RUNNING, ResearchStatus.BLOCKED, ResearchStatus.FAILED],
)
def test_an_export_not_ready_cannot_be_downloaded(db_session, lyon, world, ready, status):
    researcher = world["people"]["researcher"]
    token = service.download_link_token(ready, researcher)
    ready.status = status
    db_session.flush()
    with pytest.raises(NotFound):
        service.download_link_token(ready, researcher)
    with pytest.raises(NotFound):
        service.open_download(db_session, researcher, lyon, ready.id, token)


def test_expiry_tolerates_a_missing_file_and_expires_blocked_ones(db_session, lyon, world, ready):
    blocked = ask(db_session, world["people"]["researcher"], lyon, subject_id=world["survey"].id)
    blocked.status = ResearchStatus.BLOCKED
    blocked.expires_at = ready.expires_at
    ready.file_name = "gone-already.zip"
    db_session.flush()
    assert service.expire(db_session, ready.expires_at) == 2
    db_session.refresh(blocked)
    assert blocked.status == ResearchStatus.EXPIRED


# --- projects ----------------------------------------------------------------------------


def test_projects_share_a_sealed_key(db_session, lyon, world):
    project = projects.create_project(
        db_session, world["people"]["researcher"], lyon, "  Chauffage  ", "Thèse"
    )
    assert project.name == "Chauffage" and project.city_id == lyon.id
    assert len(projects.project_key(project)) == 32
    assert project.key_sealed != unseal(project.key_sealed)  # stored sealed
    other = projects.create_project(db_session, world["people"]["admin"], lyon, "Confort", "")
    assert projects.project_key(other) != projects.project_key(project)
    assert projects.projects_for(db_session, lyon) == [project, other]
    other.closed_at = utcnow()
    db_session.flush()
    assert projects.projects_for(db_session, lyon) == [project]
    entry = db_session.scalar(
        sa.select(AuditEntry).where(AuditEntry.action == "research.project.create").limit(1)
    )
    assert entry.subject_type == "research_project"


def test_a_project_name_is_unique_per_city(db_session, lyon, vienna, world):
    projects.create_project(db_session, world["people"]["researcher"], lyon, "Chauffage", "")
    with pytest.raises(Invalid) as caught:
        projects.create_project(db_session, world["people"]["colleague"], lyon, "Chauffage", "")
    assert caught.value.errors == {"name": ["A project of this city already has this name."]}
    # Another city may use it.
    projects.create_project(
        db_session, world["people"]["vienna_researcher"], vienna, "Chauffage", ""
    )


@pytest.mark.parametrize("who", ["resident", "moderator", "staff", "vienna_researcher"])
def test_only_researchers_and_admins_create_projects(db_session, lyon, world, who):
    with pytest.raises(NotAllowed):
        projects.create_project(db_session, world["people"][who], lyon, "Chauffage", "")
    assert db_session.scalar(sa.select(sa.func.count()).select_from(ResearchProject)) == 0


def test_a_project_needs_a_name(db_session, lyon, world):
    with pytest.raises(Invalid) as caught:
        projects.create_project(db_session, world["people"]["researcher"], lyon, "  ", "x" * 2001)
    assert set(caught.value.errors) == {"name", "description"}
