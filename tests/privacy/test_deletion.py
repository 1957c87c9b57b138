"""Deleting an account, checked table by table: nothing left links to the person, the other
residents' rows are untouched, what others rely on stays, and research keeps only what names
nobody."""

import json
import logging
from collections import Counter
from datetime import UTC, time, timedelta

import pytest
import sqlalchemy as sa

from app import accounts
from app.audit import AuditEntry
from app.db import Base, utcnow
from app.errors import NotFound
from app.extensions import login_manager
from app.models import IdempotencyRecord, Role, TokenKind, User
from energy.models import Household, Meter, Reading
from i18n import force_locale
from ideas.models import Comment, Flag, Idea, Support, SupportBudget
from ideas.service import author_name
from notifications.models import Notification
from privacy.deletion import KEPT_WITHOUT_PERSON, delete_account, person_columns
from research.models import KeptMeterDay
from surveys.models import ResponseAnswer, SurveyResponse
from tests.privacy.seed import PERSONAL_MARKERS, SPRING, SURVEY_MARKER, seed_for_deletion
from workshops.models import Registration, Workshop

pytestmark = pytest.mark.usefixtures("in_app")


@pytest.fixture
def make_world(db_session, lyon, make_user, moderator, campaign, operator):
    def make(research: bool = False):
        person = make_user(lyon, email="kim.martin@example.org")
        other = make_user(lyon, email="zoe.autre@example.org")
        seeded = seed_for_deletion(
            db_session, person, other, moderator, campaign, operator, research=research
        )
        db_session.commit()
        return person, other, seeded

    return make


def deleted(db_session, person) -> dict:
    counts = delete_account(db_session, person)
    db_session.commit()
    db_session.expire_all()
    return counts


def user_columns(table: sa.Table) -> list[sa.Column]:
    return [c for c in table.columns if any(k.column.table.name == "users" for k in c.foreign_keys)]


def as_text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def leftovers(db_session, person_id: int, markers) -> list[str]:
    """Every cell of every table that still points at the person or holds one of ``markers``."""
    found = []
    for table in Base.metadata.sorted_tables:
        pointing = {c.name for c in user_columns(table)}
        for row in db_session.execute(sa.select(table)).mappings():
            for name, value in row.items():
                if value is None:
                    continue
                if name in pointing and value == person_id:
                    found.append(f"{table.name}.{name} = the person's id")
                    continue
                if isinstance(value, str | bytes | dict | list):
                    text = as_text(value)
                    found += [f"{table.name}.{name}: {m!r}" for m in markers if m in text]
    return found


def rows_of(db_session, person_id: int) -> Counter:
    """Rows per table with a column pointing at the person."""
    counts = Counter()
    for table in Base.metadata.sorted_tables:
        columns = user_columns(table)
        if columns:
            query = sa.select(sa.func.count()).select_from(table)
            counts[table.name] = db_session.scalar(
                query.where(sa.or_(*(c == person_id for c in columns)))
            )
    return counts


def table_sizes(db_session) -> Counter:
    return Counter(
        {
            t.name: db_session.scalar(sa.select(sa.func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }
    )


def test_nothing_left_links_to_the_person_or_holds_what_they_entered(db_session, make_world):
    person, _other, _seeded = make_world()
    person_id, markers = person.id, (person.email, person.display_name, *PERSONAL_MARKERS)
    before = leftovers(db_session, person_id, (*markers, SURVEY_MARKER))
    # Each marker was seeded somewhere, so finding none afterwards means something.
    assert [m for m in (*markers, SURVEY_MARKER) if not any(repr(m) in f for f in before)] == []
    counts = deleted(db_session, person)
    assert leftovers(db_session, person_id, (*markers, SURVEY_MARKER)) == []
    assert db_session.get(User, person_id) is None
    scopes = db_session.scalars(sa.select(IdempotencyRecord.scope)).all()
    assert f"user:{person_id}" not in scopes
    # The counts say what went, per table, and what stayed without the person.
    assert counts["deleted"]["users"] == 1
    assert counts["deleted"]["meter_readings"] == 3 + len(SPRING)
    assert counts["deleted"]["survey_responses"] == 3  # seeded, submitted, draft
    assert counts["deleted"]["response_answers"] > 0
    assert counts["deleted"]["deliveries"] > 0
    assert counts["deleted"]["idempotency_records"] == 1
    assert counts["kept"]["ideas"] == 1 and counts["kept"]["idea_comments"] == 3
    assert "survey_responses" not in counts["kept"]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(KeptMeterDay)) == 0


def test_the_other_residents_rows_are_all_still_there(db_session, make_world):
    person, other, seeded = make_world()
    theirs_before = rows_of(db_session, other.id)
    sizes_before = table_sizes(db_session)
    readings = sa.select(sa.func.count()).select_from(Reading)
    counts = deleted(db_session, person)
    theirs_after = rows_of(db_session, other.id)
    # Only one more notification (and its deliveries): the seat that became free is theirs.
    assert theirs_after - theirs_before == Counter({"notifications": 1})
    assert theirs_before - theirs_after == Counter()
    changed = set(counts["deleted"]) | set(counts["kept"]) | {"notifications", "deliveries"}
    unchanged = {
        name: size for name, size in table_sizes(db_session).items() if name not in changed
    }
    assert unchanged == {n: s for n, s in sizes_before.items() if n not in changed}
    assert db_session.scalar(readings) == 0  # only the person had meters
    assert other.email == "zoe.autre@example.org"  # their account, untouched
    assert db_session.get(Idea, seeded["ideas"]["voting"].id).author_id == other.id


def test_with_research_consent_answers_and_daily_totals_stay_linked_to_nobody(
    db_session, make_world
):
    person, _other, _seeded = make_world(research=True)
    person_id = person.id
    submitted = db_session.execute(
        sa.select(SurveyResponse.id, SurveyResponse.client_uuid, SurveyResponse.submitted_at)
        .where(SurveyResponse.user_id == person_id, SurveyResponse.status == "submitted")
        .order_by(SurveyResponse.id)
    ).all()
    answers = db_session.scalar(
        sa.select(sa.func.count())
        .select_from(ResponseAnswer)
        .where(ResponseAnswer.response_id.in_([r.id for r in submitted]))
    )
    per_meter = dict(
        db_session.execute(
            sa.select(Meter.label, sa.func.sum(Reading.value))
            .join(Reading, Reading.meter_id == Meter.id)
            .where(Meter.user_id == person_id)
            .group_by(Meter.label)
        ).all()
    )
    counts = deleted(db_session, person)
    assert counts["kept"]["survey_responses"] == len(submitted) == 2
    kept = db_session.scalars(
        sa.select(SurveyResponse)
        .where(SurveyResponse.id.in_([r.id for r in submitted]))
        .order_by(SurveyResponse.id)
    ).all()
    assert len(kept) == 2
    for before, response in zip(submitted, kept, strict=True):
        assert response.user_id is None and response.single_owner_id is None
        assert response.client_uuid != before.client_uuid and response.fingerprint is None
        for moment in (response.started_at, response.updated_at, response.submitted_at):
            assert moment.astimezone(UTC).time() == time(0)
        assert response.submitted_at.date() == before.submitted_at.astimezone(UTC).date()
        assert response.kept_for_research_at is not None
    assert response.answers  # what was answered stays, for research
    assert (
        db_session.scalar(
            sa.select(sa.func.count())
            .select_from(ResponseAnswer)
            .where(ResponseAnswer.response_id.in_([r.id for r in submitted]))
        )
        == answers
    )
    # The draft went all the same.
    assert counts["deleted"]["survey_responses"] == 1
    # Each meter's days, in a series of its own, add up to its readings; nothing else stays.
    days = db_session.scalars(sa.select(KeptMeterDay).order_by(KeptMeterDay.day)).all()
    totals = Counter()
    for day in days:
        totals[day.series] += day.amount
    assert sorted(totals.values()) == sorted(per_meter.values())
    assert len(totals) == 2
    garage = [d for d in days if d.commodity == "gas"]
    assert {(d.day, d.amount) for d in garage} == {
        (SPRING[0][2], 10.0),
        (SPRING[1][2], 60.0),
        (SPRING[3][2], 80.0),
    }
    assert {d.unit for d in garage} == {"m3"} and {d.city_id for d in days} == {person.city_id}
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Meter)) == 0
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Household)) == 0
    # Nothing kept says whose it was.
    markers = (person.email, person.display_name, *PERSONAL_MARKERS)
    assert leftovers(db_session, person_id, markers) == []


def test_ideas_and_comments_stay_by_a_deleted_participant(db_session, make_world):
    person, other, seeded = make_world()
    person_id = person.id
    comment_id = seeded["comment"].id
    deleted(db_session, person)
    mine = db_session.scalars(sa.select(Idea).where(Idea.title == "Un potager partagé")).all()
    assert len(mine) == 1 and mine[0].author_id is None and mine[0].author is None
    assert author_name(mine[0].author) == "deleted participant"
    comment = db_session.get(Comment, comment_id)
    assert comment.author_id is None and comment.body == "Je soutiens, et je commente aussi."
    # The comment the person had deleted keeps no text.
    gone = db_session.scalars(sa.select(Comment).where(Comment.state == "deleted")).all()
    assert [c.body for c in gone] == [""]
    # The idea's author was told of the comment by name: now by "deleted participant", in
    # their language, in their inbox and in the digest e-mail that carried it.
    told = db_session.scalars(
        sa.select(Notification)
        .where(Notification.user_id == other.id, Notification.kind.in_(["idea.comment", "digest"]))
        .order_by(Notification.id)
    ).all()
    assert [n.kind for n in told] == ["idea.comment", "digest"]
    with force_locale("fr"):
        label = author_name(None)
    for notice in told:
        for text in (notice.subject, notice.body_text, notice.body_html):
            assert "Kim" not in text
        assert label in notice.body_text
    assert "Je soutiens" in told[0].body_text  # the comment itself is still quoted
    # Flags: the open one stays, from nobody, without the note; the resolved one is gone.
    flags = db_session.scalars(sa.select(Flag).where(Flag.user_id.is_(None))).all()
    assert len(flags) == 2 and all(f.resolved_at is None and f.note is None for f in flags)
    assert db_session.scalar(sa.select(sa.func.count()).where(Flag.resolved_at.is_not(None))) == 0
    assert person_id not in db_session.scalars(sa.select(Comment.author_id)).all()


def test_supports_taken_back_while_supporting_and_kept_once_cast(db_session, make_world):
    person, other, seeded = make_world()
    ideas = {name: db_session.get(Idea, idea.id) for name, idea in seeded["ideas"].items()}
    trend = ideas["voting"].trend
    weight = db_session.scalar(
        sa.select(Support.weight).where(
            Support.idea_id == ideas["voting"].id, Support.user_id == person.id
        )
    )
    assert {name: idea.supports_count for name, idea in ideas.items()} == {
        "voting": 2,
        "final": 1,
        "closed": 1,
    }
    deleted(db_session, person)
    after = {name: db_session.get(Idea, idea.id) for name, idea in ideas.items()}
    # Still supporting: taken back, as the person could have; final or closed: still counted.
    assert {name: idea.supports_count for name, idea in after.items()} == {
        "voting": 1,
        "final": 1,
        "closed": 1,
    }
    assert after["voting"].trend == pytest.approx(trend - weight)
    supporters = db_session.scalars(sa.select(Support.user_id)).all()
    assert supporters == [other.id]
    assert db_session.scalars(sa.select(SupportBudget.user_id)).all() == [other.id]


def test_the_waitlist_moves_up_and_seats_match_their_registrations(db_session, make_world):
    person, other, seeded = make_world()
    deleted(db_session, person)
    small = db_session.get(Workshop, seeded["small"].id)
    waiting = db_session.get(Registration, seeded["waiting"].id)
    assert waiting.status == "confirmed" and small.confirmed_count == 1
    promoted = db_session.scalars(
        sa.select(Notification.kind).where(Notification.user_id == other.id)
    ).all()
    assert "workshop.registration" in promoted
    past = db_session.get(Workshop, seeded["past"].id)
    assert past.confirmed_count == 0
    for workshop in (small, past):
        seats = db_session.scalar(
            sa.select(sa.func.count()).where(
                Registration.workshop_id == workshop.id, Registration.status == "confirmed"
            )
        )
        assert seats == workshop.confirmed_count


def test_the_audit_log_keeps_actions_but_not_the_person(db_session, make_world, caplog):
    person, _other, seeded = make_world()
    city_id = person.city_id
    with caplog.at_level(logging.INFO, logger="livinglab"):
        counts = deleted(db_session, person)
    mute = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "author.mute"))
    assert (mute.subject_type, mute.subject_id, mute.reason) == ("user", None, None)
    invite = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "workshop.invite"))
    assert invite.details == {"workshop_id": seeded["small"].id}
    own = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "idea.withdraw"))
    assert own.actor_id is None
    entry = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "account.delete"))
    assert (entry.actor_id, entry.subject_type, entry.subject_id) == (None, "user", None)
    assert entry.city_id == city_id and entry.details == counts
    assert set(entry.details) == {"deleted", "kept"}  # counts only: nothing names the person
    records = [r for r in caplog.records if r.getMessage() == "account deleted"]
    assert len(records) == 1 and records[0].deleted == counts["deleted"]
    logged = "\n".join(str(r.__dict__) for r in caplog.records)
    assert "kim.martin" not in logged and "Kim Martin" not in logged


def test_every_column_pointing_at_a_person_is_deleted_with_them_or_explained():
    unexplained = [
        f"{table.name}.{column.name} ({rule or 'no rule'})"
        for table, column, rule in person_columns()
        if rule != "CASCADE"
        and not (rule == "SET NULL" and f"{table.name}.{column.name}" in KEPT_WITHOUT_PERSON)
    ]
    assert unexplained == [], "delete these rows with the person (CASCADE) or explain why not"
    known = {f"{t.name}.{c.name}" for t, c, _rule in person_columns()}
    assert set(KEPT_WITHOUT_PERSON) <= known


def test_deleting_again_finds_nobody_and_the_address_is_free_again(db_session, make_world):
    person, _other, _seeded = make_world()
    person_id = person.id
    deleted(db_session, person)
    with pytest.raises(NotFound):
        delete_account(db_session, person)
    db_session.rollback()
    accounts.sign_up(
        db_session,
        email="kim.martin@example.org",
        password="a new long passphrase",
        city_slug="lyon",
    )
    db_session.commit()
    anew = accounts.find_user_by_email(db_session, "kim.martin@example.org")
    assert anew.id != person_id and anew.email_verified_at is None
    # A new, unrelated account: its code and the mail bringing it, nothing of the old one.
    assert +rows_of(db_session, anew.id) == Counter({"email_codes": 1, "notifications": 1})


def test_staff_delete_themselves_too(db_session, lyon, make_user):
    admin = make_user(lyon, role=Role.ADMIN)
    counts = deleted(db_session, admin)
    assert counts["deleted"]["role_grants"] == 1
    assert db_session.get(User, admin.id) is None


def test_an_operator_deletes_on_a_written_request(app, db_session, make_world):
    person, _other, _seeded = make_world()
    person_id = person.id
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["accounts", "delete", "kim.martin@example.org"], input="n\n")
    assert refused.exit_code == 1 and db_session.get(User, person_id) is not None
    unknown = runner.invoke(args=["accounts", "delete", "nobody@example.org", "--yes"])
    assert unknown.exit_code == 1 and "no account" in unknown.output
    done = runner.invoke(args=["accounts", "delete", "KIM.martin@example.org", "--yes"])
    assert done.exit_code == 0, done.output
    assert "Account deleted." in done.output and "meter_readings 7" in done.output
    assert "kim.martin" not in done.output
    db_session.expire_all()
    assert db_session.get(User, person_id) is None


def test_the_console_shows_a_deleted_participant_and_a_deleted_account(
    app, db_session, make_world, make_user, lyon
):
    person, _other, seeded = make_world()
    admin = make_user(lyon, role=Role.ADMIN)
    raw = accounts.issue_token(
        db_session, admin, TokenKind.CONSOLE, timedelta(hours=1), "test", utcnow()
    )
    db_session.commit()
    deleted(db_session, person)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with client.application.test_request_context(environ_base=client.environ_base):
        identifier = login_manager._session_identifier_generator()
    with client.session_transaction() as session:
        session.update({"_user_id": raw, "_fresh": True, "_id": identifier})
    mine = db_session.scalar(sa.select(Idea).where(Idea.title == "Un potager partagé"))
    voting = seeded["ideas"]["voting"]
    pages = {
        f"/console/lyon/ideas/{mine.id}": "deleted participant",
        f"/console/lyon/ideas/{voting.id}": "deleted participant",  # the person's comment
        f"/console/lyon/boards/{mine.board_id}": "deleted participant",
        "/console/lyon/moderation": "Idée à soutenir final",  # flagged by them, still open
        "/console/lyon/audit": "deleted their account",
    }
    for path, expected in pages.items():
        page = client.get(path)
        assert page.status_code == 200, path
        text = page.get_data(as_text=True)
        assert expected in text, path
        assert "Kim Martin" not in text and "kim.martin" not in text, path
    audit_page = client.get("/console/lyon/audit").get_data(as_text=True)
    assert "a deleted account" in audit_page and "#None" not in audit_page
