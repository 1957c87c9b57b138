"""Operator commands."""

from pathlib import Path

import sqlalchemy as sa

from app.db import utcnow
from app.models import City, User
from campaigns.models import Campaign, CampaignFollow, CampaignStatus
from energy.feedback.jobs import give_feedback
from energy.models import FeedbackReport, Household, Reading
from ideas.models import Board, Idea
from notifications.models import Notification
from research.population import research_consenters
from updates.models import Update
from workshops.models import Workshop


def test_demo_data_loads_once_and_prints_passwords_once(app, db_session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "admin@example.org" in first.output
    assert db_session.scalars(sa.select(City.slug).order_by(City.slug)).all() == ["lyon", "vienna"]
    published = db_session.scalars(
        sa.select(Campaign).where(Campaign.status == CampaignStatus.PUBLISHED)
    ).all()
    assert {c.city.slug for c in published} == {"lyon", "vienna"}
    # Each city's resident follows its campaign and was told of its published update.
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CampaignFollow)) == 2
    assert set(db_session.scalars(sa.select(Update.status))) == {"published"}
    told = db_session.scalars(
        sa.select(User.email)
        .join(Notification, Notification.user_id == User.id)
        .where(Notification.kind == "update.published")
    ).all()
    assert sorted(told) == ["resident.lyon@example.org", "resident.vienna@example.org"]
    # Each city has a board collecting ideas, with the resident's first idea on it.
    boards = db_session.scalars(sa.select(Board)).all()
    assert [(b.status, b.phase) for b in boards] == [("published", "collecting")] * 2
    assert db_session.scalars(sa.select(Idea.state)).all() == ["published"] * 2
    # Each city has a workshop next month with seats taken; Vienna's is full, one waiting.
    workshops = db_session.scalars(sa.select(Workshop).order_by(Workshop.city_id)).all()
    assert [(w.status, w.confirmed_count, w.capacity) for w in workshops] == [
        ("published", 4, 12),
        ("published", 3, 3),
    ]
    # Each city has districts, tariffs and a street of twelve consenting households with
    # eight weeks of readings, alike enough for the first weekly feedback to compare them.
    assert [len(city.districts) for city in db_session.scalars(sa.select(City))] == [5, 5]
    per_city = db_session.execute(
        sa.select(Household.city_id, sa.func.count(Household.id)).group_by(Household.city_id)
    ).all()
    assert sorted(count for _city, count in per_city) == [12, 12]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Reading)) >= 24 * 8 * 7 * 24
    with app.app_context():  # as the scheduler runs its jobs
        counts = give_feedback(db_session, now=utcnow())
    assert counts == {"reports": 48, "told": 24}
    shown = db_session.scalars(
        sa.select(FeedbackReport.figures).where(FeedbackReport.period == "week")
    ).all()
    assert all(figures["comparison"]["value"] is not None for figures in shown)
    # The street consented to research too: the researcher can export its energy use.
    for city in db_session.scalars(sa.select(City)).all():
        consenters = research_consenters(city.id).subquery()
        assert db_session.scalar(sa.select(sa.func.count()).select_from(consenters)) == 12
    users = db_session.scalar(sa.select(sa.func.count(User.id)))
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0 and "already loaded" in second.output
    assert "admin@example.org" not in second.output
    assert db_session.scalar(sa.select(sa.func.count(User.id))) == users


def test_first_city_and_admin_of_a_new_deployment(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "cities",
            "create",
            "--slug",
            "santiago",
            "--name",
            "Santiago de Compostela",
            "--timezone",
            "Europe/Madrid",
            "--default-locale",
            "gl",
            "--locales",
            "gl,es,en",
        ]
    )
    assert result.exit_code == 0, result.output
    city = db_session.scalar(sa.select(City).where(City.slug == "santiago"))
    assert city.enabled_locales == ["gl", "en", "es"]
    bad = runner.invoke(
        args=[
            "cities",
            "create",
            "--slug",
            "x",
            "--name",
            "X",
            "--timezone",
            "Mars/Olympus",
            "--default-locale",
            "gl",
            "--locales",
            "gl",
        ]
    )
    assert bad.exit_code != 0 and "timezone" in bad.output
    weak = runner.invoke(
        args=["accounts", "create-admin", "--email", "a@example.org", "--city", "santiago"],
        input="password\npassword\n",
    )
    assert weak.exit_code != 0
    result = runner.invoke(
        args=["accounts", "create-admin", "--email", "Root@Example.org", "--city", "santiago"],
        input="a long admin passphrase\na long admin passphrase\n",
    )
    assert result.exit_code == 0, result.output
    admin = db_session.scalar(sa.select(User).where(User.email == "root@example.org"))
    assert admin.is_platform_admin and admin.email_verified_at is not None
    again = runner.invoke(
        args=["accounts", "create-admin", "--email", "root@example.org", "--city", "santiago"],
        input="a long admin passphrase\na long admin passphrase\n",
    )
    assert again.exit_code == 1 and "exists already" in again.output
    nowhere = runner.invoke(
        args=["accounts", "create-admin", "--email", "new@example.org", "--city", "atlantis"],
        input="a long admin passphrase\na long admin passphrase\n",
    )
    assert nowhere.exit_code == 1 and "no city 'atlantis'" in nowhere.output


def test_an_xlsform_becomes_a_draft_survey_from_the_command_line(app, db_session):
    from surveys.models import Survey, SurveyVersion

    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    campaign = db_session.scalar(sa.select(Campaign).order_by(Campaign.id))
    form = str(Path(__file__).parent / "fixtures" / "xlsform" / "example_xls_text_and_integer.xlsx")
    result = runner.invoke(
        args=[
            "surveys",
            "import",
            form,
            "--campaign",
            str(campaign.id),
            "--as",
            "admin@example.org",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "2 of 2 questions imported" in result.output
    survey = db_session.scalar(sa.select(Survey).where(Survey.campaign_id == campaign.id))
    assert survey.status == "draft"
    version = db_session.scalar(
        sa.select(SurveyVersion).where(SurveyVersion.survey_id == survey.id)
    )
    assert sum(len(page["questions"]) for page in version.definition["pages"]) == 2
    # A resident cannot import on anyone's behalf.
    refused = runner.invoke(
        args=[
            "surveys",
            "import",
            form,
            "--campaign",
            str(campaign.id),
            "--as",
            "resident.lyon@example.org",
        ]
    )
    assert refused.exit_code != 0
