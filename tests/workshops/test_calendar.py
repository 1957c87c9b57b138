"""Calendar files of workshops and people's private feeds, parsed back with icalendar."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.db import utcnow
from tests.workshops.helpers import registration
from tests.workshops.telling import event_of, parse
from workshops import calendar
from workshops.models import CalendarFeed, RegistrationStatus, WorkshopStatus

pytestmark = pytest.mark.usefixtures("in_app")

LINK = "https://meet.example.org/cour-7"
HOUR = timedelta(hours=1)


def lines(text: str) -> list[str]:
    """Content lines, unfolded."""
    return text.replace("\r\n ", "").split("\r\n")


def test_a_workshop_file_parses_back_with_its_uid_sequence_zone_and_texts(workshop_of):
    workshop = workshop_of(
        description={"fr": "Dessinons la **cour** ensemble.\n\n- des bancs\n- des arbres"},
        agenda={"fr": "Accueil, puis ateliers"},
        latitude=45.7578,
        longitude=4.832,
        ical_sequence=3,
    )
    text = calendar.workshop_calendar(workshop, "fr", with_link=False)
    parsed = parse(text)
    assert str(parsed["METHOD"]) == "PUBLISH" and str(parsed["VERSION"]) == "2.0"
    assert str(parsed["PRODID"]) == calendar.PRODID
    [event] = parsed.events
    assert str(event["UID"]) == workshop.ical_uid
    assert event["SEQUENCE"] == 3
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event.start == workshop.starts_at and event.end == workshop.ends_at
    assert [tz.tz_name for tz in parsed.timezones] == ["Europe/Paris"]
    assert str(event["SUMMARY"]) == "Atelier de la cour"
    description = str(event["DESCRIPTION"])
    assert description.startswith("Dessinons la cour ensemble.\n\n- des bancs\n- des arbres")
    assert "Accueil, puis ateliers" in description and "**" not in description
    assert str(event["LOCATION"]) == "12 rue de la République, 69002 Lyon"
    assert (event["GEO"].latitude, event["GEO"].longitude) == (45.7578, 4.832)
    assert event.DTSTAMP is not None
    # Rendering again gives the same file: nothing in it changes by itself.
    assert calendar.workshop_calendar(workshop, "fr", with_link=False) == text


def test_texts_fall_back_to_the_city_language(workshop_of):
    workshop = workshop_of(title={"fr": "Atelier de la cour", "en": "Courtyard workshop"})
    assert str(
        event_of(calendar.workshop_calendar(workshop, "en", with_link=False))["SUMMARY"]
    ) == ("Courtyard workshop")
    assert str(
        event_of(calendar.workshop_calendar(workshop, "ja", with_link=False))["SUMMARY"]
    ) == ("Atelier de la cour")


def test_the_online_link_is_only_in_files_for_participants(workshop_of):
    workshop = workshop_of(address=None, online_url=LINK)
    public = calendar.workshop_calendar(workshop, "fr", with_link=False)
    assert LINK not in "".join(lines(public))
    event = event_of(public)
    assert "URL" not in event and str(event["LOCATION"]) != LINK
    seated = event_of(calendar.workshop_calendar(workshop, "fr", with_link=True))
    assert str(seated["URL"]) == LINK and str(seated["LOCATION"]) == LINK
    assert LINK in str(seated["DESCRIPTION"])


def test_a_cancelled_workshop_file_cancels_the_same_event(workshop_of):
    workshop = workshop_of(status=WorkshopStatus.CANCELLED, ical_sequence=2)
    parsed = parse(calendar.workshop_calendar(workshop, "fr", with_link=True))
    assert str(parsed["METHOD"]) == "CANCEL"
    [event] = parsed.events
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == workshop.ical_uid and event["SEQUENCE"] == 2
    [attached] = calendar.calendar_attachment(workshop, with_link=True)("fr")
    assert attached["content_type"] == "text/calendar; charset=utf-8; method=CANCEL"


def test_a_workshop_on_the_day_clocks_go_forward_keeps_its_wall_clock_time(workshop_of):
    # 28 March 2027: Lyon goes from 02:00 CET to 03:00 CEST. 10:00 CEST is 08:00 UTC.
    starts = datetime(2027, 3, 28, 8, tzinfo=UTC)
    workshop = workshop_of(starts_at=starts, ends_at=starts + 2 * HOUR)
    text = calendar.workshop_calendar(workshop, "fr", with_link=False)
    assert "DTSTART;TZID=Europe/Paris:20270328T100000" in lines(text)
    assert "DTEND;TZID=Europe/Paris:20270328T120000" in lines(text)
    parsed = parse(text)
    assert parsed.events[0].start == starts
    # The file's own VTIMEZONE says the same as the zone database, on both sides of the change.
    zone = parsed.timezones[0].to_tz()
    assert datetime(2027, 3, 28, 10, tzinfo=zone).utcoffset() == 2 * HOUR
    assert datetime(2027, 3, 27, 10, tzinfo=zone).utcoffset() == HOUR


def test_a_workshop_across_the_night_clocks_go_back_lasts_as_long_as_it_does(workshop_of):
    # 31 October 2027: 03:00 CEST becomes 02:00 CET. 22:00 UTC to 03:00 UTC is five hours,
    # though the wall clock shows 00:00 to 04:00.
    starts = datetime(2027, 10, 30, 22, tzinfo=UTC)
    workshop = workshop_of(starts_at=starts, ends_at=starts + 5 * HOUR)
    text = calendar.workshop_calendar(workshop, "fr", with_link=False)
    assert "DTSTART;TZID=Europe/Paris:20271031T000000" in lines(text)
    assert "DTEND;TZID=Europe/Paris:20271031T040000" in lines(text)
    event = event_of(text)
    # In UTC: Python subtracts two times of one zone on the wall clock.
    assert event.end.astimezone(UTC) - event.start.astimezone(UTC) == 5 * HOUR
    assert event.start.astimezone(UTC) == starts


def test_a_time_in_the_repeated_hour_is_written_so_it_is_not_mistaken(workshop_of):
    # 02:30 happens twice on 31 October 2027: first at 00:30 UTC (CEST), then at 01:30 UTC (CET).
    # A TZID time names the first, so the second is written in UTC.
    first, second = (
        datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
        datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
    )
    workshop = workshop_of(starts_at=first, ends_at=second)
    text = calendar.workshop_calendar(workshop, "fr", with_link=False)
    assert "DTSTART;TZID=Europe/Paris:20271031T023000" in lines(text)
    assert "DTEND:20271031T013000Z" in lines(text)
    event = event_of(text)
    # In UTC: Python never finds a time of the repeated hour equal to one of another zone.
    assert (event.start.astimezone(UTC), event.end.astimezone(UTC)) == (first, second)


def test_markdown_becomes_plain_text():
    assert calendar.plain_text(None) == "" == calendar.plain_text("  ")
    assert calendar.plain_text("**Bold** and *soft*\nnext line") == "Bold and soft\nnext line"
    assert calendar.plain_text("See [the plan](https://example.org/plan).") == (
        "See the plan (https://example.org/plan)."
    )
    assert calendar.plain_text("1. one\n2. two\n\nAfter") == "1. one\n2. two\n\nAfter"
    assert calendar.plain_text("<script>x</script> &amp;") == "<script>x</script> &"


# --- feeds ----------------------------------------------------------------------------------


def test_a_feed_holds_the_persons_seats_and_their_cancelled_workshops_only(
    db_session, workshop_of, resident, lyon, make_user, translate
):
    now = utcnow()
    other = make_user(lyon)
    seat = workshop_of(online_url=LINK)
    waiting = workshop_of()
    gave_up = workshop_of()
    called_off = workshop_of(status=WorkshopStatus.CANCELLED, ical_sequence=1)
    recent = workshop_of(
        status=WorkshopStatus.COMPLETED, starts_at=now - 10 * 24 * HOUR, ends_at=now - 239 * HOUR
    )
    long_ago = workshop_of(
        status=WorkshopStatus.COMPLETED, starts_at=now - 40 * 24 * HOUR, ends_at=now - 959 * HOUR
    )
    theirs = workshop_of()
    for workshop in (seat, called_off, recent, long_ago):
        registration(db_session, workshop, resident)
    registration(db_session, waiting, resident, RegistrationStatus.WAITLISTED)
    registration(db_session, gave_up, resident, RegistrationStatus.CANCELLED)
    registration(db_session, theirs, other)

    parsed = parse(calendar.feed_calendar(db_session, resident, "fr"))
    events = {str(e["UID"]): e for e in parsed.events}
    assert set(events) == {seat.ical_uid, called_off.ical_uid, recent.ical_uid}
    assert str(events[called_off.ical_uid]["STATUS"]) == "CANCELLED"
    assert str(events[seat.ical_uid]["STATUS"]) == "CONFIRMED"
    assert str(events[seat.ical_uid]["URL"]) == LINK  # theirs: a seat
    assert str(parsed["X-WR-CALNAME"]) == translate("fr", "My Living Lab workshops")
    assert str(parsed["METHOD"]) == "PUBLISH"
    assert [tz.tz_name for tz in parsed.timezones] == ["Europe/Paris"]
    their_feed = parse(calendar.feed_calendar(db_session, other, "en"))
    assert [str(e["UID"]) for e in their_feed.events] == [theirs.ical_uid]


def test_an_empty_feed_is_still_a_calendar(db_session, resident):
    parsed = parse(calendar.feed_calendar(db_session, resident, "fr"))
    assert parsed.events == [] and str(parsed["VERSION"]) == "2.0"


def test_a_feed_token_is_kept_hashed_and_opens_only_its_owners_feed(
    db_session, resident, lyon, make_user
):
    other = make_user(lyon)
    token = calendar.issue_feed(db_session, resident)
    other_token = calendar.issue_feed(db_session, other)
    assert len(token) >= 43 and token != other_token
    feed = db_session.scalar(sa.select(CalendarFeed).where(CalendarFeed.user_id == resident.id))
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert feed.last_read_at is None

    assert calendar.feed_owner(db_session, token) == resident
    assert calendar.feed_owner(db_session, other_token) == other
    assert feed.last_read_at is not None
    for junk in ("", "x" * 43, token[:-1], token + "x" * 200):
        assert calendar.feed_owner(db_session, junk) is None


def test_issuing_again_or_revoking_stops_the_old_url(db_session, resident):
    old = calendar.issue_feed(db_session, resident)
    new = calendar.issue_feed(db_session, resident)
    assert calendar.feed_owner(db_session, old) is None
    assert calendar.feed_owner(db_session, new) == resident
    assert db_session.scalar(sa.select(sa.func.count()).select_from(CalendarFeed)) == 1

    assert calendar.revoke_feed(db_session, resident) is True
    assert calendar.feed_owner(db_session, new) is None
    assert calendar.revoke_feed(db_session, resident) is False


def test_a_disabled_account_has_no_feed(db_session, resident):
    token = calendar.issue_feed(db_session, resident)
    resident.disabled_at = utcnow()
    db_session.flush()
    assert calendar.feed_owner(db_session, token) is None


def test_reads_are_recorded_without_a_write_on_every_poll(db_session, resident):
    token = calendar.issue_feed(db_session, resident)
    first = utcnow()
    calendar.feed_owner(db_session, token, now=first)
    calendar.feed_owner(db_session, token, now=first + timedelta(minutes=5))
    feed = db_session.scalar(sa.select(CalendarFeed))
    assert feed.last_read_at == first
    calendar.feed_owner(db_session, token, now=first + HOUR)
    assert feed.last_read_at == first + HOUR
