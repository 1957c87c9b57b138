"""Retention: each policy removes exactly what has passed its period, a run says so in its
report, a failing policy holds up no other, and a second run removes nothing."""

import dataclasses
import logging
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app import audit
from app.accounts import issue_token
from app.config import RETENTION_PERIODS, _retention_days
from app.db import utcnow
from app.models import AccessToken, EmailCode, IdempotencyRecord, Role, TokenKind, User
from energy.models import FeedbackReport, Meter
from notifications.models import Delivery, DeliveryStatus, Notification
from privacy import retention
from privacy.models import DataExport, ExportStatus, PurgeRun
from surveys.models import ResponseAnswer, ResponseStatus, SurveyResponse
from tests.surveys.helpers import make_survey

pytestmark = pytest.mark.usefixtures("in_app")

DAY = timedelta(days=1)


@pytest.fixture
def now():
    return utcnow()


def _labels(session, model, column) -> set:
    session.expire_all()
    return set(session.scalars(sa.select(column)))


def _notification(session, person, label, created_at, inbox=False):
    notification = Notification(
        user_id=person.id,
        city_id=person.city_id,
        kind="account.code",
        locale="fr",
        subject=label,
        body_text="-",
        body_html="-",
        created_at=created_at,
        inbox_at=created_at if inbox else None,
    )
    session.add(notification)
    session.flush()
    return notification


def _delivery(session, notification, status, created_at):
    session.add(
        Delivery(
            notification_id=notification.id,
            channel="email",
            status=status,
            due_at=created_at,
            created_at=created_at,
            sent_at=created_at if status == DeliveryStatus.SENT else None,
        )
    )


def _response(session, survey, person, label, status, **times):
    response = SurveyResponse(
        survey_id=survey.id,
        version_id=survey.current_version_id,
        user_id=person.id,
        client_uuid=str(uuid.uuid4()),
        status=status,
        locale="fr",
        answers={"comment": label},
        fingerprint=label,
        **times,
    )
    session.add(response)
    session.flush()
    return response


def _report(session, meter, ends_on):
    session.add(
        FeedbackReport(
            meter_id=meter.id,
            user_id=meter.user_id,
            city_id=meter.city_id,
            commodity="electricity",
            period="week",
            starts_on=ends_on - timedelta(days=6),
            ends_on=ends_on,
            consumption=1.0,
        )
    )


@pytest.fixture
def seeded(db_session, now, lyon, make_user, moderator, campaign):
    """Rows on both sides of every policy's cut-off; ``*-old`` go, ``*-new`` (and any other
    label) stay. Returns the expected counts of a run at ``now``."""
    person = make_user(lyon, email="kim@example.org")
    # Sign-in tokens: 30 days after expiring or being revoked.
    issue_token(db_session, person, TokenKind.API, DAY, "token-old", now - 60 * DAY)
    issue_token(db_session, person, TokenKind.API, DAY, "token-new", now - 20 * DAY)
    issue_token(db_session, person, TokenKind.API, 90 * DAY, "revoked-old", now - 40 * DAY)
    issue_token(db_session, person, TokenKind.API, 90 * DAY, "revoked-new", now - 40 * DAY)
    tokens = {t.label: t for t in db_session.scalars(sa.select(AccessToken))}
    tokens["revoked-old"].revoked_at = now - 31 * DAY
    tokens["revoked-new"].revoked_at = now - 29 * DAY
    # E-mail codes: at expiry.
    for label, expires_at in (("code-old", now - timedelta(minutes=1)), ("code-new", now + DAY)):
        db_session.add(
            EmailCode(
                user_id=person.id,
                purpose="verify_email",
                code_hash=label,
                created_at=expires_at - timedelta(minutes=30),
                expires_at=expires_at,
            )
        )
    # Idempotency records: a day.
    for label, age in (("idem-old", DAY + timedelta(minutes=1)), ("idem-new", DAY / 2)):
        db_session.add(
            IdempotencyRecord(
                scope=f"user:{person.id}",
                key=label,
                endpoint="x",
                fingerprint="f",
                status_code=201,
                response_body="{}",
                created_at=now - age,
            )
        )
    # Notifications in the inbox: a year; their deliveries go with them (not counted).
    _notification(db_session, person, "inbox-old", now - 366 * DAY, inbox=True)
    inbox = _notification(db_session, person, "inbox-new", now - 364 * DAY, inbox=True)
    # Finished deliveries: 30 days; one still to be sent stays whatever its age.
    _delivery(db_session, inbox, DeliveryStatus.SENT, now - 31 * DAY)  # goes
    _delivery(db_session, inbox, DeliveryStatus.SENT, now - 29 * DAY)
    _delivery(db_session, inbox, DeliveryStatus.PENDING, now - 100 * DAY)
    # Notifications outside the inbox: a day, once nothing of theirs waits to be delivered.
    _notification(db_session, person, "unlisted-old", now - 2 * DAY)
    waiting = _notification(db_session, person, "unlisted-waiting", now - 2 * DAY)
    _delivery(db_session, waiting, DeliveryStatus.PENDING, now - 2 * DAY)
    _notification(db_session, person, "unlisted-new", now - DAY / 2)
    # Survey drafts: 90 days after their last change; withdrawn responses: 30 days.
    survey = make_survey(db_session, moderator, campaign)
    _response(db_session, survey, person, "draft-old", "draft", updated_at=now - 91 * DAY)
    _response(db_session, survey, person, "draft-new", "draft", updated_at=now - 89 * DAY)
    _response(
        db_session,
        survey,
        person,
        "submitted-old",
        ResponseStatus.SUBMITTED,
        submitted_at=now - 900 * DAY,
        updated_at=now - 900 * DAY,
    )
    withdrawn = _response(
        db_session, survey, person, "withdrawn-old", "withdrawn", withdrawn_at=now - 31 * DAY
    )
    db_session.add(
        ResponseAnswer(survey_id=survey.id, response_id=withdrawn.id, question="q", text="x")
    )
    _response(db_session, survey, person, "withdrawn-new", "withdrawn", withdrawn_at=now - 29 * DAY)
    # Records of personal data copies: 30 days after downloaded, expired or failed.
    for label, status, moment in (
        ("downloaded-old", ExportStatus.DOWNLOADED, now - 31 * DAY),
        ("expired-old", ExportStatus.EXPIRED, now - 31 * DAY),
        ("failed-old", ExportStatus.FAILED, now - 31 * DAY),
        ("downloaded-new", ExportStatus.DOWNLOADED, now - 29 * DAY),
        ("pending-old", ExportStatus.PENDING, now - 31 * DAY),
    ):
        db_session.add(
            DataExport(
                user_id=person.id,
                status=status,
                locale="fr",
                error=label,  # a marker for the test (locale holds only a language tag)
                requested_at=moment - DAY,
                expires_at=moment if status == ExportStatus.EXPIRED else None,
                downloaded_at=moment if status == ExportStatus.DOWNLOADED else None,
            )
        )
    # The audit log: three years.
    for label, age in (("audit-old", 1096 * DAY), ("audit-new", 1094 * DAY)):
        audit.record(db_session, None, label, "user", None, city_id=lyon.id, now=now - age)
    # Reports of retention runs: a year.
    db_session.add(PurgeRun(started_at=now - 366 * DAY, trigger="runs-old"))
    db_session.add(PurgeRun(started_at=now - 364 * DAY, trigger="runs-new"))
    # Unconfirmed accounts: 30 days; never one with a role or a platform admin.
    for label, age, values in (
        ("unverified-old", 31, {}),
        ("unverified-new", 29, {}),
        ("verified-old", 31, {"verified": True}),
        ("unverified-admin-old", 31, {"platform_admin": True}),
        ("unverified-moderator-old", 31, {"role": Role.MODERATOR}),
    ):
        made = make_user(lyon, email=f"{label}@example.org", **{"verified": False, **values})
        made.created_at = now - age * DAY
    unverified = db_session.scalar(sa.select(User).where(User.email.like("unverified-old%")))
    db_session.add(
        EmailCode(
            user_id=unverified.id,
            purpose="verify_email",
            code_hash="code-of-unverified",
            created_at=now - 31 * DAY,
            expires_at=now + DAY,  # not expired: it goes with its account
        )
    )
    # Energy feedback reports: two years after the period they describe.
    meter = Meter(
        user_id=person.id,
        city_id=lyon.id,
        commodity="electricity",
        unit="Wh",
        timezone="Europe/Paris",
        label="Appartement",
    )
    db_session.add(meter)
    db_session.flush()
    _report(db_session, meter, (now - 731 * DAY).date())
    _report(db_session, meter, (now - 729 * DAY).date())
    db_session.commit()
    return {
        "access_tokens": 2,
        "email_codes": 1,
        "idempotency_records": 1,
        "deliveries": 1,
        "unlisted_notifications": 1,
        "inbox": 1,
        "survey_drafts": 1,
        "withdrawn_responses": 1,
        "personal_exports": 3,
        "audit_log": 1,
        "purge_runs": 1,
        "unverified_accounts": 1,
        "energy_feedback": 1,
    }


def test_each_policy_removes_exactly_what_has_passed_its_period(db_session, now, seeded):
    run = retention.run_retention(db_session, now, trigger="command")
    assert run.counts == seeded
    assert run.failures == {}
    assert run.trigger == "command"
    assert run.started_at == now
    assert run.finished_at >= now
    assert set(run.cutoffs) == set(seeded)
    assert run.cutoffs["survey_drafts"] == (now - 90 * DAY).isoformat()
    assert run.cutoffs["email_codes"] == now.isoformat()
    # What is left: everything but the old ones.
    assert _labels(db_session, AccessToken, AccessToken.label) == {"token-new", "revoked-new"}
    assert _labels(db_session, EmailCode, EmailCode.code_hash) == {"code-new"}
    assert _labels(db_session, IdempotencyRecord, IdempotencyRecord.key) == {"idem-new"}
    assert _labels(db_session, Notification, Notification.subject) == {
        "inbox-new",
        "unlisted-waiting",
        "unlisted-new",
    }
    assert sorted(
        db_session.execute(sa.select(Delivery.status, Delivery.created_at)).all(),
        key=lambda row: row[1],
    ) == [
        (DeliveryStatus.PENDING, now - 100 * DAY),
        (DeliveryStatus.SENT, now - 29 * DAY),
        (DeliveryStatus.PENDING, now - 2 * DAY),
    ]
    assert _labels(db_session, SurveyResponse, SurveyResponse.fingerprint) == {
        "draft-new",
        "submitted-old",
        "withdrawn-new",
    }
    assert db_session.scalar(sa.select(sa.func.count()).select_from(ResponseAnswer)) == 0
    assert _labels(db_session, DataExport, DataExport.error) == {"downloaded-new", "pending-old"}
    assert _labels(db_session, audit.AuditEntry, audit.AuditEntry.action) >= {"audit-new"}
    assert "audit-old" not in _labels(db_session, audit.AuditEntry, audit.AuditEntry.action)
    assert _labels(db_session, PurgeRun, PurgeRun.trigger) == {"runs-new", "command"}
    emails = _labels(db_session, User, User.email)
    assert "unverified-old@example.org" not in emails
    assert {
        "unverified-new@example.org",
        "verified-old@example.org",
        "unverified-admin-old@example.org",
        "unverified-moderator-old@example.org",
        "kim@example.org",
    } <= emails
    assert not db_session.scalar(
        sa.select(sa.func.count()).where(EmailCode.code_hash == "code-of-unverified")
    )
    # Deleted as a deletion deletes: recorded in the audit log, by nobody.
    deletions = sa.select(sa.func.count()).where(
        audit.AuditEntry.action == "account.delete", audit.AuditEntry.actor_id.is_(None)
    )
    assert db_session.scalar(deletions) == 1
    assert _labels(db_session, FeedbackReport, FeedbackReport.ends_on) == {(now - 729 * DAY).date()}


def test_a_second_run_removes_nothing(db_session, now, seeded):
    retention.run_retention(db_session, now)
    second = retention.run_retention(db_session, now + timedelta(minutes=1))
    assert set(second.counts) == set(seeded)
    assert set(second.counts.values()) == {0}
    assert second.failures == {}
    assert db_session.scalar(sa.select(sa.func.count()).select_from(PurgeRun)) == 3


def test_a_failing_policy_is_recorded_and_the_others_still_run(db_session, now, seeded, caplog):
    def half_then_fail(session, cutoff, at):
        retention.purge_idempotency_records(session, cutoff, at)
        raise RuntimeError("kim@example.org")  # a message the report must not carry

    policies = [
        dataclasses.replace(p, purge=half_then_fail) if p.name == "idempotency_records" else p
        for p in retention.POLICIES
    ]
    with caplog.at_level(logging.ERROR, logger="livinglab.privacy"):
        run = retention.run_retention(db_session, now, policies=policies)
    assert run.failures == {"idempotency_records": "RuntimeError"}
    assert run.counts == {**seeded, "idempotency_records": 0}
    # What the failing policy deleted before failing was rolled back.
    assert _labels(db_session, IdempotencyRecord, IdempotencyRecord.key) == {
        "idem-old",
        "idem-new",
    }
    assert _labels(db_session, AccessToken, AccessToken.label) == {"token-new", "revoked-new"}
    failed = [r for r in caplog.records if r.getMessage() == "retention policy failed"]
    assert failed and failed[0].policy == "idempotency_records" and failed[0].exc_info
    stored = db_session.get(PurgeRun, run.id)
    assert stored.failures == {"idempotency_records": "RuntimeError"}


def test_periods_follow_the_settings_never_below_their_minimum(
    app, db_session, now, seeded, monkeypatch
):
    monkeypatch.setitem(
        app.config,
        "RETENTION_DAYS",
        {
            **app.config["RETENTION_DAYS"],
            "survey_drafts": 200,  # longer: the 91-day-old draft stays
            "idempotency_records": 0,  # below the minimum: a day all the same
            "audit_log": 30,  # the last 365 days stay whatever the setting
        },
    )
    lyon = db_session.scalar(sa.select(User).where(User.email == "kim@example.org")).city
    for label, age in (("audit-year", 366), ("audit-recent", 364)):
        audit.record(db_session, None, label, "user", None, city_id=lyon.id, now=now - age * DAY)
    db_session.commit()
    run = retention.run_retention(db_session, now)
    assert run.counts["survey_drafts"] == 0
    assert run.counts["idempotency_records"] == 1
    assert run.cutoffs["idempotency_records"] == (now - DAY).isoformat()
    assert run.counts["audit_log"] == 3  # older than a year: 1096, 1094 and 366 days
    assert run.cutoffs["audit_log"] == (now - 365 * DAY).isoformat()
    left = _labels(db_session, audit.AuditEntry, audit.AuditEntry.action)
    assert "audit-recent" in left
    assert not {"audit-old", "audit-new", "audit-year"} & left


def test_the_audit_log_keeps_its_last_year_even_asked_for_less(db_session, now, lyon):
    for label, age in (("year-old", 366), ("recent", 300)):
        audit.record(db_session, None, label, "user", None, city_id=lyon.id, now=now - age * DAY)
    db_session.commit()
    removed = retention.purge_audit_log(db_session, now - 10 * DAY, now)
    assert removed == 1
    assert _labels(db_session, audit.AuditEntry, audit.AuditEntry.action) == {"recent"}


def test_settings_are_read_from_the_environment_within_their_minimums(monkeypatch):
    monkeypatch.setenv("RETENTION_SURVEY_DRAFTS_DAYS", "120")
    monkeypatch.setenv("RETENTION_IDEMPOTENCY_RECORDS_DAYS", "0")
    monkeypatch.setenv("RETENTION_AUDIT_LOG_DAYS", "30")
    days = _retention_days()
    assert days["survey_drafts"] == 120
    assert days["idempotency_records"] == 1
    assert days["audit_log"] == 365
    assert days["inbox"] == 365  # unset: the default
    assert set(days) == set(RETENTION_PERIODS)
    # Every period the config knows is a policy, and every policy that purges has a period.
    purging = {p.name for p in retention.POLICIES if p.purge is not None}
    assert purging == set(RETENTION_PERIODS)


def test_large_purges_go_in_batches(db_session, now, lyon, make_user, monkeypatch):
    person = make_user(lyon)
    for i in range(7):
        db_session.add(
            IdempotencyRecord(
                scope=f"user:{person.id}",
                key=f"k{i}",
                endpoint="x",
                fingerprint="f",
                status_code=201,
                response_body="{}",
                created_at=now - 2 * DAY,
            )
        )
    db_session.commit()
    monkeypatch.setattr(retention, "BATCH", 3)
    batches = []
    original = retention.purge_idempotency_records

    def counted(session, cutoff, at):
        batches.append(original(session, cutoff, at))
        return batches[-1]

    policy = next(p for p in retention.POLICIES if p.name == "idempotency_records")
    run = retention.run_retention(
        db_session, now, policies=[dataclasses.replace(policy, purge=counted)]
    )
    assert run.counts == {"idempotency_records": 7}
    assert batches == [3, 3, 1, 0]


def test_information_policies_are_listed_but_not_run(app, db_session, now):
    shown = {p.name: p for p in retention.POLICIES if p.purge is None}
    assert set(shown) == {"research_exports", "meter_readings"}
    assert shown["meter_readings"].days(app.config) == app.config["ENERGY_RAW_DAYS"]
    assert shown["research_exports"].days(app.config) == app.config["RESEARCH_EXPORT_DAYS"]
    run = retention.run_retention(db_session, now)
    assert not set(shown) & set(run.counts)


def test_commands_print_the_policies_and_run_them(app, db_session, now, seeded):
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["privacy", "retention"])
    assert listed.exit_code == 0, listed.output
    assert "RETENTION_SURVEY_DRAFTS_DAYS" in listed.output
    assert "ENERGY_RAW_DAYS" in listed.output
    purged = runner.invoke(args=["privacy", "purge"])
    assert purged.exit_code == 0, purged.output
    assert "personal_exports" in purged.output
    run = db_session.scalar(sa.select(PurgeRun).where(PurgeRun.trigger == "command"))
    assert run.counts == seeded


def test_feedback_reports_are_dated_by_the_period_they_describe(db_session, lyon, make_user):
    person = make_user(lyon)
    meter = Meter(
        user_id=person.id,
        city_id=lyon.id,
        commodity="electricity",
        unit="Wh",
        timezone="Europe/Paris",
        label="M",
    )
    db_session.add(meter)
    db_session.flush()
    _report(db_session, meter, date(2020, 1, 12))
    db_session.commit()
    # Computed today, about a week of 2020: its period is what counts.
    cutoff = utcnow() - 730 * DAY
    assert retention.purge_energy_feedback(db_session, cutoff, utcnow()) == 1
