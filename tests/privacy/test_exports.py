"""A resident's copy of their data: everything seeded for them in every domain is in it,
nothing of anyone else and no secret; it is built by the job, kept a day, erased after."""

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa
from babel.dates import format_datetime

from app.db import Base, utcnow
from app.models import User
from privacy import service
from privacy.collect import COVERED, NOT_PERSONAL
from privacy.jobs import privacy_exports
from privacy.models import DataExport, ExportStatus
from tests.privacy.seed import SECRETS, seed

pytestmark = pytest.mark.usefixtures("in_app")


@pytest.fixture
def world(db_session, lyon, make_user, moderator, campaign, operator):
    person = make_user(lyon, email="kim.martin@example.org")
    other = make_user(lyon, email="zoe.autre@example.org")
    seeded = seed(db_session, person, other, moderator, campaign, operator)
    db_session.commit()
    return person, other, seeded


def built(db_session, person, locale="fr", now=None):
    export, _created = service.request_export(db_session, person, locale, now=now)
    db_session.commit()
    privacy_exports(db_session, now=now)
    db_session.refresh(export)
    content = db_session.scalar(sa.select(DataExport.content).where(DataExport.id == export.id))
    return export, content


def test_the_copy_holds_everything_seeded_and_nothing_else(db_session, world, password_hash):
    person, other, seeded = world
    export, content = built(db_session, person)
    assert export.status == ExportStatus.READY
    archive = zipfile.ZipFile(io.BytesIO(content))
    meter = seeded["meter"]
    assert {"README.txt", "data.json", "survey-answers.csv", "notifications.csv"} <= set(
        archive.namelist()
    )
    data = json.loads(archive.read("data.json"))
    assert data["account"]["email"] == "kim.martin@example.org"
    assert data["consents"][0]["purpose"] == "energy_feedback"
    assert data["campaign_follows"][0]["campaign_id"] == seeded["survey"].campaign_id
    answers = {a["question"]: a for a in data["survey_responses"][0]["answers"]}
    assert answers["heating"]["label"] == "Comment chauffez-vous ?"
    assert answers["comment"]["answer"] == "Chaudière bruyante"
    assert [i["title"] for i in data["ideas"]["ideas"]] == ["Un potager partagé"]
    assert [c["body"] for c in data["ideas"]["comments"]] == ["Mon commentaire sur l'autre idée"]
    assert len(data["ideas"]["supports"]) == len(data["ideas"]["flags"]) == 1
    assert data["ideas"]["mutes"][0]["reason"] == "Spam"
    registration = data["workshops"]["registrations"][0]
    assert {a["label"]: a["answer"] for a in registration["answers"]} == {
        "Régime alimentaire": "vegan",
        "Besoins d'accès": "Rampe",
    }
    assert data["workshops"]["calendar_feed"]["created_at"]
    assert data["notifications"]["received"][0]["subject"] == "Nouvelle de la ville"
    assert data["notifications"]["preferences"][0]["kind"] == "idea.comment"
    assert data["notifications"]["settings"]["quiet_start"] == "22:00:00"
    assert data["notifications"]["push_devices"][0]["label"] == "Mon téléphone"
    energy = data["energy"]
    assert energy["household"]["district"] == "Croix-Rousse"
    assert energy["meters"][0]["readings"] == 3
    assert energy["imports"][0]["filename"] == "conso.csv"
    assert energy["feedback_reports"][0]["consumption"] == 667.5
    assert energy["provider_connections"][0]["status"] == "active"
    assert data["audit"] == [
        {
            "action": "idea.withdraw",
            "subject_type": "idea",
            "created_at": data["audit"][0]["created_at"],
        }
    ]
    assert data["account"]["created_at"].endswith("+00:00")
    readings = archive.read(f"readings-meter-{meter.id}.csv").decode("utf-8")
    assert readings.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(readings.lstrip("\ufeff"))))
    assert rows[0] == ["start", "end", "value", "unit"]
    assert [r[2] for r in rows[1:]] == ["111.5", "222.5", "333.5"]
    assert rows[1][3] == "Wh"
    survey_csv = archive.read("survey-answers.csv").decode("utf-8")
    assert "Chaudière bruyante" in survey_csv
    # Nothing of the other resident, and no secret.
    everything = b"".join(archive.read(name) for name in archive.namelist())
    for unwanted in (
        other.email,
        other.display_name,
        "Commentaire secret de Zoé",
        password_hash,
        *SECRETS.values(),
    ):
        assert unwanted.encode() not in everything, unwanted
    for token_hash in db_session.scalars(sa.text("SELECT token_hash FROM access_tokens")):
        assert token_hash.encode() not in everything


def test_the_readme_is_in_the_persons_language(db_session, world, translate):
    person, _other, _seeded = world
    export, content = built(db_session, person, locale="de")
    readme = zipfile.ZipFile(io.BytesIO(content)).read("README.txt").decode("utf-8")
    for sentence in ("What the files hold:", "Your rights:"):
        german = translate("de", sentence)
        assert german != sentence and german in readme
    assert format_datetime(export.expires_at, "long", locale="de") in readme
    assert "data.json" in readme


def test_the_job_tells_the_person_and_expires_what_was_not_fetched(db_session, world):
    person, _other, _seeded = world
    export, _content = built(db_session, person)
    told = db_session.scalars(
        sa.text("SELECT kind FROM notifications WHERE user_id = :u").bindparams(u=person.id)
    ).all()
    assert "privacy.export_ready" in told
    later = export.expires_at + timedelta(minutes=1)
    assert privacy_exports(db_session, now=later)["expired"] == 1
    db_session.refresh(export)
    assert export.status == ExportStatus.EXPIRED
    assert export.token_sha256 is None
    assert (
        db_session.scalar(sa.select(DataExport.content).where(DataExport.id == export.id)) is None
    )


def test_a_copy_that_cannot_be_built_is_marked_failed(db_session, world):
    person, _other, _seeded = world
    export, _ = service.request_export(db_session, person, "xx")
    db_session.commit()
    privacy_exports(db_session)
    db_session.refresh(export)
    assert export.status == ExportStatus.FAILED
    assert export.error == "build-failed"


def test_every_table_pointing_at_a_person_is_exported_or_explained():
    forgotten = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if not any(fk.column.table.name == User.__tablename__ for fk in column.foreign_keys):
                continue
            if COVERED.get(table.name) == column.name:
                continue
            if table.name in NOT_PERSONAL or f"{table.name}.{column.name}" in NOT_PERSONAL:
                continue
            if column.name.endswith("_by_id") or table.name in COVERED:
                # Staff acting on the row (granted_by, muted_by, invited_by...): not the
                # person the row is about.
                continue
            forgotten.append(f"{table.name}.{column.name}")
    assert forgotten == []
    assert "users" in COVERED


def test_no_second_copy_while_one_is_on_its_way(db_session, world):
    person, _other, _seeded = world
    first, created = service.request_export(db_session, person, "fr")
    again, created_again = service.request_export(db_session, person, "fr")
    assert created and not created_again
    assert again.id == first.id
    later = utcnow() + timedelta(days=2)
    privacy_exports(db_session, now=later - timedelta(days=1, hours=1))
    assert privacy_exports(db_session, now=later)["expired"] == 1
    _third, created_third = service.request_export(db_session, person, "fr", now=later)
    assert created_third
