"""The retention page: every policy with its period and what happens after, and the runs'
reports (counts per policy, failures), the latest first, for administrators only."""

from datetime import UTC, datetime, timedelta

import pytest

from app.db import utcnow
from privacy.models import PurgeRun
from privacy.retention import run_retention
from tests.console.helpers import html

RETENTION = "/console/lyon/retention"


@pytest.fixture
def runs(db_session, people):
    """Two runs: one by the scheduler with a failure, a later one from the command line."""
    moment = datetime(2030, 1, 15, 2, 0, tzinfo=UTC)  # 03:00 in Lyon
    db_session.add_all(
        [
            PurgeRun(
                started_at=moment,
                finished_at=moment + timedelta(seconds=3),
                trigger="scheduler",
                counts={"survey_drafts": 12, "audit_log": 0, "unverified_accounts": 0},
                cutoffs={"survey_drafts": (moment - timedelta(days=90)).isoformat()},
                failures={"unverified_accounts": "OperationalError"},
            ),
            PurgeRun(
                started_at=moment + timedelta(days=1),
                finished_at=moment + timedelta(days=1, seconds=1),
                trigger="command",
                counts={"survey_drafts": 0, "inbox": 4},
                cutoffs={},
                failures={},
            ),
        ]
    )
    db_session.commit()


def test_admins_see_the_policies_and_the_runs_latest_first(as_person, runs):
    page = html(as_person("admin").get(RETENTION))
    # The policies: what, for how long, then what.
    assert "Survey responses started but never submitted" in page
    assert "90 days" in page
    assert "RETENTION_SURVEY_DRAFTS_DAYS" in page
    assert "Entries are deleted; those of the last 365 days always stay." in page
    # Kept by jobs of their own: listed, with their setting.
    assert "Meter readings shorter than a day" in page
    assert "ENERGY_RAW_DAYS" in page
    assert "RESEARCH_EXPORT_DAYS" in page
    # The runs, latest first, in the city's time.
    assert page.index("Command line") < page.index("Scheduler")
    assert "<summary>4 rows</summary>" in page and "<summary>12 rows</summary>" in page
    assert "Survey responses started but never submitted: 12" in page
    assert "1/15/30, 3:00" in page.replace("\u202f", " ")
    assert "OperationalError" in page
    assert 'aria-current="page">Data retention</a>' in page


def test_a_real_run_shows_on_the_page(app, db_session, as_person, people):
    with app.app_context():
        run_retention(db_session, utcnow(), trigger="command")
    page = html(as_person("platform_admin").get(RETENTION))
    assert "Command line" in page
    assert "<summary>0 rows</summary>" in page


def test_without_runs_the_page_says_so(as_person, people):
    page = html(as_person("admin").get(RETENTION))
    assert "No retention run has been recorded yet." in page


def test_runs_are_read_in_pages(db_session, as_person, people):
    start = datetime(2030, 1, 1, tzinfo=UTC)
    db_session.add_all(
        PurgeRun(started_at=start + timedelta(hours=i), trigger="scheduler", counts={"inbox": i})
        for i in range(30)
    )
    db_session.commit()
    client = as_person("admin")
    first = html(client.get(RETENTION))
    assert "Page 1 of 2" in first
    assert "<summary>29 rows</summary>" in first and "<summary>4 rows</summary>" not in first
    second = html(client.get(f"{RETENTION}?page=2"))
    assert "<summary>4 rows</summary>" in second and "<summary>29 rows" not in second
    assert client.get(f"{RETENTION}?page=abc").status_code == 400


def test_only_administrators_find_the_page(as_person, people):
    assert as_person("moderator").get(RETENTION).status_code == 403
    assert as_person("researcher").get(RETENTION).status_code == 403
    assert as_person("other_moderator").get(RETENTION).status_code == 404
    # The link is in the city bar of those who may read it.
    assert "/console/lyon/retention" in html(as_person("admin").get("/console/lyon/campaigns"))
    assert "/console/lyon/retention" not in html(
        as_person("moderator").get("/console/lyon/campaigns")
    )
