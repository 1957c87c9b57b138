"""The outbox page of a city: counts, dead letters without full addresses, sending them again."""

import logging
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.models import Role, User
from notifications import delivery
from notifications.channels import Permanent
from notifications.models import Channel, Delivery, DeliveryStatus, Notification
from notifications.service import notify
from tests.console.helpers import html, post_form

PAGE = "/console/lyon/deliveries"


def dead_letter(
    session,
    user: User,
    channel: str = Channel.EMAIL,
    error: str = "550 mailbox unavailable",
    kind: str = "update.published",
) -> Delivery:
    """A delivery that used up its tries, for ``user`` (rows written directly, no templates)."""
    now = utcnow()
    notification = Notification(
        user_id=user.id,
        city_id=user.city_id,
        kind=kind,
        locale="en",
        subject="Subject",
        body_text="Text",
        body_html="<p>Text</p>",
        data={},
        created_at=now - timedelta(hours=3),
    )
    session.add(notification)
    session.flush()
    letter = Delivery(
        notification_id=notification.id,
        channel=channel,
        status=DeliveryStatus.DEAD,
        due_at=now - timedelta(hours=1),
        attempts=8,
        last_error=error,
        created_at=now - timedelta(hours=3),
    )
    session.add(letter)
    session.commit()
    return letter


@pytest.fixture
def staff(lyon, make_person):
    return make_person(lyon, "staff@lyon.example", Role.STAFF)


@pytest.fixture
def staff_client(client, open_session, staff):
    return open_session(client, staff)


def _status(db_session, letter: Delivery) -> Delivery:
    return db_session.get(Delivery, letter.id, populate_existing=True)


def test_staff_see_their_citys_dead_letters_without_full_addresses(
    staff_client, db_session, lyon, vienna, make_person
):
    marie = make_person(lyon, "marie.curie@example.org")
    ours = dead_letter(
        db_session, marie, error="550 5.1.1 <marie.curie@example.org>: Recipient address rejected"
    )
    push = dead_letter(db_session, marie, channel=Channel.PUSH, error="403 invalid credentials")
    theirs = dead_letter(db_session, make_person(vienna, "hans@wien.example"))

    page = html(staff_client.get(PAGE))

    assert "marie.curie" not in page
    assert "m…@example.org" in page
    assert "Recipient address rejected" in page and "403 invalid credentials" in page
    assert "News from my city and the campaigns I follow" in page
    assert f"/deliveries/{ours.id}/retry" in page and f"/deliveries/{push.id}/retry" in page
    assert f"/deliveries/{theirs.id}/retry" not in page and "wien.example" not in page
    assert 'aria-current="page">Deliveries</a>' in page


def test_counts_per_state_are_the_citys_own(staff_client, db_session, lyon, vienna, make_person):
    marie = make_person(lyon, "marie@example.org")
    dead_letter(db_session, marie)
    dead_letter(db_session, make_person(vienna, "hans@wien.example"))
    now = utcnow()
    rows = [
        (DeliveryStatus.PENDING, None),
        (DeliveryStatus.PENDING, None),
        (DeliveryStatus.DIGEST, None),
        (DeliveryStatus.SENT, now - timedelta(hours=2)),
        (DeliveryStatus.DIGESTED, now - timedelta(hours=5)),
        (DeliveryStatus.SENT, now - timedelta(days=2)),  # too long ago to count
    ]
    notification_id = db_session.scalar(sa.select(Delivery.notification_id))
    for status, sent_at in rows:
        db_session.add(
            Delivery(
                notification_id=notification_id,
                channel=Channel.EMAIL,
                status=status,
                due_at=now,
                sent_at=sent_at,
            )
        )
    db_session.commit()

    page = html(staff_client.get(PAGE))

    counts = [
        ("2", "Waiting to be sent"),
        ("1", "Waiting for an email digest"),
        ("1", "Dead letters"),
        ("2", "Sent in the last 24 hours"),
    ]
    for number, label in counts:
        assert f"<strong>{number}</strong></p><p>{label}" in page


def test_sending_one_dead_letter_again_puts_it_back_in_the_queue(
    staff_client, db_session, lyon, make_person, caplog
):
    marie = make_person(lyon, "marie@example.org")
    letter = dead_letter(db_session, marie)
    other = dead_letter(db_session, marie)

    with caplog.at_level(logging.INFO, logger="livinglab.console"):
        response = post_form(staff_client, f"{PAGE}/{letter.id}/retry", page=PAGE)

    assert response.status_code == 303 and response.location.endswith(PAGE)
    retried = _status(db_session, letter)
    assert (retried.status, retried.attempts) == (DeliveryStatus.PENDING, 0)
    assert retried.due_at <= utcnow()
    assert _status(db_session, other).status == DeliveryStatus.DEAD
    assert "1 dead letter is queued to be sent again." in html(staff_client.get(PAGE))
    record = next(r for r in caplog.records if r.getMessage() == "dead letters retried")
    assert record.count == 1 and record.city == "lyon"


def test_sending_all_again_takes_only_this_citys_dead_letters(
    staff_client, db_session, lyon, vienna, make_person
):
    marie = make_person(lyon, "marie@example.org")
    ours = [dead_letter(db_session, marie), dead_letter(db_session, marie, Channel.PUSH)]
    theirs = dead_letter(db_session, make_person(vienna, "hans@wien.example"))

    response = post_form(staff_client, f"{PAGE}/retry-all", page=PAGE)

    assert response.status_code == 303
    assert [_status(db_session, d).status for d in ours] == [DeliveryStatus.PENDING] * 2
    assert _status(db_session, theirs).status == DeliveryStatus.DEAD
    page = html(staff_client.get(PAGE))
    assert "2 dead letters are queued to be sent again." in page
    assert "No dead letters" in page
    post_form(staff_client, f"{PAGE}/retry-all", page=PAGE)
    assert "There was no dead letter to send again." in html(staff_client.get(PAGE))


def test_another_citys_dead_letter_is_not_found_and_stays_dead(
    staff_client, db_session, vienna, make_person
):
    theirs = dead_letter(db_session, make_person(vienna, "hans@wien.example"))
    response = post_form(staff_client, f"{PAGE}/{theirs.id}/retry", page=PAGE)
    assert response.status_code == 404
    assert _status(db_session, theirs).status == DeliveryStatus.DEAD


def test_retrying_needs_the_forms_csrf_token(staff_client, db_session, lyon, make_person):
    letter = dead_letter(db_session, make_person(lyon, "marie@example.org"))
    assert staff_client.post(f"{PAGE}/{letter.id}/retry").status_code == 400
    assert staff_client.post(f"{PAGE}/retry-all").status_code == 400
    assert staff_client.get(f"{PAGE}/{letter.id}/retry").status_code == 405
    assert _status(db_session, letter).status == DeliveryStatus.DEAD


def test_moderators_see_no_link_to_the_outbox(client, open_session, lyon, make_person):
    moderator = make_person(lyon, "moderator@lyon.example", Role.MODERATOR)
    page = html(open_session(client, moderator).get("/console/lyon/campaigns"))
    assert "/deliveries" not in page


def test_a_refused_email_becomes_a_dead_letter_and_goes_out_after_a_retry(
    app, staff_client, db_session, lyon, make_person, monkeypatch
):
    """The whole way: notify, a provider refusing for good, staff sending it again."""
    outcomes = [Permanent("550 no such user <marie@example.org>"), None]

    class Provider:
        def send(self, _item):
            outcome = outcomes.pop(0)
            if outcome is not None:
                raise outcome

    @contextmanager
    def opener(_app):
        yield Provider()

    monkeypatch.setattr(delivery, "_openers", lambda: {Channel.EMAIL: opener, Channel.PUSH: opener})
    marie = make_person(lyon, "marie@example.org")
    with app.app_context():
        notify(db_session, [marie], "account.exists", {})
        db_session.commit()
        assert delivery.deliver_due(db_session) == 0
    letter = db_session.scalar(sa.select(Delivery).where(Delivery.channel == Channel.EMAIL))
    assert (letter.status, letter.attempts) == (DeliveryStatus.DEAD, 1)

    page = html(staff_client.get(PAGE))
    assert "550 no such user <m…@example.org>" in page.replace("&lt;", "<").replace("&gt;", ">")

    post_form(staff_client, f"{PAGE}/{letter.id}/retry", page=PAGE)
    with app.app_context():
        assert delivery.deliver_due(db_session) == 1
    sent = _status(db_session, letter)
    assert (sent.status, sent.attempts) == (DeliveryStatus.SENT, 1)
    assert "No dead letters" in html(staff_client.get(PAGE))
