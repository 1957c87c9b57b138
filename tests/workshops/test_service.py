"""Moderators setting workshops up, publishing, changing, cancelling and completing them; who
reads which workshop."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.audit import AuditEntry
from app.db import MAX_ID, utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.models import Role
from campaigns import service as campaigns
from workshops import registrations, service
from workshops.models import Workshop, WorkshopStatus

pytestmark = pytest.mark.usefixtures("in_app")

PARIS = ZoneInfo("Europe/Paris")
NEXT_SUMMER = datetime(utcnow().year + 1, 7, 1, 18, 0)


def create(db_session, moderator, campaign, **values):
    values = {
        "title": {"fr": "Atelier de la cour", "en": "Courtyard workshop"},
        "starts_at": NEXT_SUMMER,
        "ends_at": NEXT_SUMMER + timedelta(hours=2),
        "capacity": 12,
        "address": "Place Bellecour, Lyon",
    } | values
    return service.create_workshop(db_session, moderator, campaign, **values)


def count(db_session) -> int:
    return db_session.scalar(sa.select(sa.func.count(Workshop.id)))


def test_a_new_workshop_is_a_draft_read_on_the_citys_clock(db_session, moderator, campaign):
    workshop = create(
        db_session,
        moderator,
        campaign,
        title={"fr": "  Atelier de la cour ", "en": ""},
        description={"fr": "Dessinons **ensemble**."},
        agenda={"fr": "1. Accueil\n2. Plans"},
        accessibility={"fr": "Accès de plain-pied"},
        online_url="https://visio.example.org/cour",
        latitude=45.7578,
        longitude=4.832,
        questions=[{"code": "diet", "label": {"fr": "Régime alimentaire"}, "required": False}],
    )
    assert workshop.status == WorkshopStatus.DRAFT
    assert workshop.title == {"fr": "Atelier de la cour"}
    # 18:00 in Lyon in summer is 16:00 UTC.
    assert workshop.starts_at == datetime(NEXT_SUMMER.year, 7, 1, 16, 0, tzinfo=UTC)
    assert workshop.reminder_hours == [24, 2]
    assert workshop.ical_uid and workshop.ical_sequence == 0
    assert (workshop.confirmed_count, workshop.queue_seq) == (0, 0)
    assert workshop.questions == [
        {"code": "diet", "label": {"fr": "Régime alimentaire"}, "required": False}
    ]
    other = create(db_session, moderator, campaign)
    assert other.ical_uid != workshop.ical_uid


def test_bad_input_is_refused_field_by_field_and_nothing_is_made(db_session, moderator, campaign):
    with pytest.raises(Invalid) as refused:
        create(
            db_session,
            moderator,
            campaign,
            title={"en": "Only English"},
            description={"fr": "x" * 5001},
            accessibility={"it": "Accesso"},
            ends_at=NEXT_SUMMER - timedelta(hours=1),
            capacity=0,
            online_url="http://visio.example.org",
            address="x" * 301,
            latitude=45.75,
            questions=[{"code": "Diet!", "label": {"fr": "Régime"}}],
            reminder_hours=[24, 24, 0],
        )
    assert set(refused.value.errors) == {
        "title",
        "description",
        "accessibility",
        "ends_at",
        "capacity",
        "online_url",
        "address",
        "longitude",
        "questions",
        "reminder_hours",
    }
    assert refused.value.errors["title"] == ["A title in the city's main language is required."]
    assert count(db_session) == 0


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        (
            {"starts_at": datetime(2020, 1, 1, 10), "ends_at": datetime(2020, 1, 1, 12)},
            "starts_at",
            "Choose a time in the future.",
        ),
        (
            {"ends_at": NEXT_SUMMER + timedelta(hours=25)},
            "ends_at",
            "A workshop lasts at most 24 hours.",
        ),
        (
            {"registration_closes_at": NEXT_SUMMER + timedelta(minutes=1)},
            "registration_closes_at",
            "Registration must close no later than the workshop starts.",
        ),
        (
            {
                "registration_opens_at": NEXT_SUMMER - timedelta(days=1),
                "registration_closes_at": NEXT_SUMMER - timedelta(days=2),
            },
            "registration_opens_at",
            "Registration must open before it closes and before the workshop starts.",
        ),
        ({"capacity": 10_001}, "capacity", "Must be between 1 and 10000."),
        ({"capacity": True}, "capacity", "Must be between 1 and 10000."),
        ({"online_url": "https://"}, "online_url", None),
        ({"online_url": "javascript:alert(1)"}, "online_url", None),
        ({"online_url": "https://[::1"}, "online_url", None),
        ({"online_url": "https://visio.example.org/a b"}, "online_url", None),
        ({"online_url": 42}, "online_url", None),
        ({"latitude": 48.85, "longitude": 2.35}, "latitude", "This place is outside the city."),
        ({"latitude": 91, "longitude": 4.8}, "latitude", "Not a place on Earth."),
        ({"reminder_hours": [1, 2, 3, 4, 5, 6]}, "reminder_hours", None),
        ({"reminder_hours": [337]}, "reminder_hours", None),
        ({"questions": [{"code": "a", "label": {"fr": "A"}}] * 2}, "questions", None),
        ({"questions": [{"code": "a", "label": {"en": "A"}}]}, "questions", None),
        (
            {"questions": [{"code": "a", "label": {"fr": "A"}, "required": "yes"}]},
            "questions",
            None,
        ),
        (
            {"questions": [{"code": "a", "label": {"fr": "A"}, "choices": [{"code": "x"}]}]},
            "questions",
            None,
        ),
        (
            {"questions": [{"code": f"q{i}", "label": {"fr": "Q"}} for i in range(21)]},
            "questions",
            None,
        ),
        ({"title": "Atelier"}, "title", "Give a text per language."),
    ],
)
def test_each_rule_on_what_moderators_enter(
    db_session, moderator, campaign, lyon, values, field, message
):
    lyon.bounds = [45.70, 4.77, 45.81, 4.90]
    with pytest.raises(Invalid) as refused:
        create(db_session, moderator, campaign, **values)
    assert list(refused.value.errors) == [field]
    if message is not None:
        assert refused.value.errors[field] == [message]
    assert count(db_session) == 0


def test_questions_with_choices_are_kept_as_checked(db_session, moderator, campaign):
    questions = [
        {
            "code": "diet",
            "label": {"fr": "Régime", "en": "Diet"},
            "required": True,
            "choices": [
                {"code": "vegan", "label": {"fr": " Végétalien "}},
                {"code": "none", "label": {"fr": "Aucun"}},
            ],
        }
    ]
    workshop = create(db_session, moderator, campaign, questions=questions, reminder_hours=[2, 48])
    assert workshop.questions[0]["choices"][0] == {"code": "vegan", "label": {"fr": "Végétalien"}}
    assert workshop.reminder_hours == [48, 2]


def test_a_time_the_clocks_skip_is_refused(db_session, moderator, campaign):
    spring_forward = datetime(NEXT_SUMMER.year, 3, 1, 2, 30)
    # The last Sunday of March, when Lyon's clocks jump from 2:00 to 3:00.
    while spring_forward.weekday() != 6 or (spring_forward + timedelta(days=7)).month == 3:
        spring_forward += timedelta(days=1)
    with pytest.raises(Invalid) as refused:
        create(
            db_session,
            moderator,
            campaign,
            starts_at=spring_forward,
            ends_at=spring_forward + timedelta(hours=3),
        )
    assert list(refused.value.errors) == ["starts_at"]


def test_only_the_citys_editors_create_workshops(
    db_session, campaign, resident, vienna, make_user, lyon
):
    with pytest.raises(NotFound):
        create(db_session, make_user(vienna, role=Role.MODERATOR), campaign)
    with pytest.raises(NotAllowed):
        create(db_session, resident, campaign)
    with pytest.raises(NotAllowed):
        create(db_session, make_user(lyon, role=Role.RESEARCHER), campaign)
    assert count(db_session) == 0


def test_publishing_needs_a_place_a_future_and_a_live_campaign(
    db_session, moderator, campaign, lyon
):
    workshop = create(db_session, moderator, campaign, address=None)
    with pytest.raises(Invalid) as refused:
        service.publish_workshop(db_session, moderator, workshop)
    assert set(refused.value.errors) == {"address", "online_url"}
    service.update_workshop(db_session, moderator, workshop, online_url="https://visio.example.org")
    with pytest.raises(Invalid) as refused:
        service.publish_workshop(
            db_session, moderator, workshop, now=workshop.starts_at + timedelta(minutes=1)
        )
    assert list(refused.value.errors) == ["starts_at"]
    assert workshop.status == WorkshopStatus.DRAFT
    now = utcnow()
    service.publish_workshop(db_session, moderator, workshop, now=now)
    assert (workshop.status, workshop.published_at) == (WorkshopStatus.PUBLISHED, now)
    assert registrations.registration_is_open(workshop, now)
    with pytest.raises(Conflict):
        service.publish_workshop(db_session, moderator, workshop)
    # A published workshop keeps a place.
    with pytest.raises(Invalid):
        service.update_workshop(db_session, moderator, workshop, online_url=None)
    draft_campaign = campaigns.create_campaign(
        db_session, moderator, lyon, slug="draft", title={"fr": "Brouillon"}
    )
    other = create(db_session, moderator, draft_campaign)
    with pytest.raises(Conflict) as refused:
        service.publish_workshop(db_session, moderator, other)
    assert refused.value.slug == "campaign-not-published"


def test_editing_changes_only_the_fields_given(db_session, moderator, workshop_of, resident, told):
    workshop = workshop_of(description={"fr": "Avant"}, accessibility={"fr": "Ascenseur"})
    registrations.register(db_session, resident, workshop)
    starts = workshop.starts_at
    service.update_workshop(db_session, moderator, workshop, title={"fr": "Nouveau titre"})
    assert workshop.title == {"fr": "Nouveau titre"}
    assert (workshop.description, workshop.accessibility) == ({"fr": "Avant"}, {"fr": "Ascenseur"})
    assert (workshop.starts_at, workshop.ical_sequence) == (starts, 0)
    # The same time and place, given again as a form sends them, tell nobody anything.
    service.update_workshop(
        db_session, moderator, workshop, starts_at=starts, address=workshop.address
    )
    assert workshop.ical_sequence == 0
    assert told(resident, "workshop.changed") == []


def test_a_new_time_or_place_is_told_to_everyone_registered(
    db_session, moderator, workshop_of, residents, told
):
    workshop = workshop_of(capacity=1)
    seated, waiting, left = residents(3)
    for person in (seated, waiting, left):
        registrations.register(db_session, person, workshop)
    registrations.cancel_registration(db_session, left, workshop)
    later = workshop.starts_at + timedelta(days=1)
    service.update_workshop(
        db_session, moderator, workshop, starts_at=later, ends_at=later + timedelta(hours=2)
    )
    assert workshop.ical_sequence == 1
    assert told(seated, "workshop.changed") == [("workshop.changed", "changed")]
    assert told(waiting, "workshop.changed") == [("workshop.changed", "changed")]
    assert told(left, "workshop.changed") == []
    service.update_workshop(db_session, moderator, workshop, address="Mairie du 2e")
    assert workshop.ical_sequence == 2
    assert len(told(seated, "workshop.changed")) == 2
    # A past time is refused, and nothing changes.
    with pytest.raises(Invalid) as refused:
        service.update_workshop(
            db_session, moderator, workshop, starts_at=utcnow() - timedelta(hours=1)
        )
    assert list(refused.value.errors) == ["starts_at"]
    assert workshop.ical_sequence == 2


def test_a_draft_changes_without_telling_anyone(db_session, moderator, campaign):
    workshop = create(db_session, moderator, campaign)
    service.update_workshop(db_session, moderator, workshop, address="Mairie du 2e")
    assert workshop.ical_sequence == 0 and workshop.address == "Mairie du 2e"


def test_the_capacity_never_drops_below_the_seats_taken(
    db_session, moderator, workshop_of, residents
):
    workshop = workshop_of(capacity=3)
    for person in residents(3):
        registrations.register(db_session, person, workshop)
    with pytest.raises(Invalid) as refused:
        service.update_workshop(
            db_session, moderator, workshop, capacity=2, title={"fr": "Autre titre"}
        )
    assert refused.value.errors == {
        "capacity": ["3 seats are taken: remove people first, or keep at least 3 seats."]
    }
    db_session.refresh(workshop)
    assert (workshop.capacity, workshop.title["fr"]) == (3, "Atelier de la cour")
    service.update_workshop(db_session, moderator, workshop, capacity=3)
    assert workshop.capacity == 3


def test_raising_the_capacity_seats_the_waitlist_in_order(
    db_session, moderator, workshop_of, residents, told
):
    workshop = workshop_of(capacity=1)
    people = residents(4)
    for person in people:
        registrations.register(db_session, person, workshop)
    service.update_workshop(db_session, moderator, workshop, capacity=3)
    assert workshop.confirmed_count == 3
    assert [told(p)[-1][1] for p in people] == ["confirmed", "promoted", "promoted", "waitlisted"]


def test_cancelling_tells_everyone_registered_once(
    db_session, moderator, workshop_of, residents, told
):
    workshop = workshop_of(capacity=1)
    seated, waiting = residents(2)
    for person in (seated, waiting):
        registrations.register(db_session, person, workshop)
    service.cancel_workshop(db_session, moderator, workshop, "  La salle est fermée. ")
    assert workshop.status == WorkshopStatus.CANCELLED
    assert workshop.cancelled_at is not None and workshop.ical_sequence == 1
    for person in (seated, waiting):
        assert told(person, "workshop.changed") == [("workshop.changed", "cancelled")]
    service.cancel_workshop(db_session, moderator, workshop)
    assert workshop.ical_sequence == 1
    assert len(told(seated, "workshop.changed")) == 1
    entries = db_session.execute(sa.select(AuditEntry.action, AuditEntry.reason)).all()
    assert entries == [("workshop.cancel", "La salle est fermée.")]
    with pytest.raises(Conflict):
        service.update_workshop(db_session, moderator, workshop, title={"fr": "Encore"})


def test_completing_a_workshop(db_session, moderator, workshop_of):
    workshop = workshop_of()
    with pytest.raises(Conflict):
        service.complete_workshop(db_session, moderator, workshop)
    # The scheduler completes only after the end.
    assert not service.complete_workshop(db_session, None, workshop, now=workshop.starts_at)
    assert service.complete_workshop(db_session, moderator, workshop, now=workshop.starts_at)
    assert (workshop.status, workshop.completed_at) == ("completed", workshop.starts_at)
    assert not service.complete_workshop(db_session, None, workshop, now=workshop.ends_at)
    with pytest.raises(Conflict):
        service.cancel_workshop(db_session, moderator, workshop)
    # Its texts may still be corrected, nothing else.
    service.update_workshop(db_session, moderator, workshop, title={"fr": "Atelier n°1"})
    with pytest.raises(Conflict):
        service.update_workshop(db_session, moderator, workshop, capacity=40)
    other = workshop_of()
    assert service.complete_workshop(db_session, None, other, now=other.ends_at)
    draft = workshop_of(status=WorkshopStatus.DRAFT)
    with pytest.raises(Conflict):
        service.complete_workshop(db_session, moderator, draft, now=draft.ends_at)


def test_who_reads_which_workshop(
    db_session, moderator, workshop_of, resident, vienna, make_user, campaign
):
    shown = workshop_of()
    draft = workshop_of(status=WorkshopStatus.DRAFT, published_at=None)
    assert service.get_workshop(db_session, resident, shown.id) is shown
    assert service.get_workshop(db_session, moderator, draft.id) is draft
    for person, workshop_id in [
        (resident, draft.id),
        (make_user(vienna), shown.id),
        (make_user(vienna, role=Role.MODERATOR), draft.id),
        (None, shown.id),
        (resident, MAX_ID + 1),
        (resident, 0),
        (resident, 987654),
    ]:
        with pytest.raises(NotFound):
            service.get_workshop(db_session, person, workshop_id)
    campaigns.archive_campaign(db_session, moderator, campaign)
    with pytest.raises(NotFound):
        service.get_workshop(db_session, resident, shown.id)
    with pytest.raises(Conflict):
        service.update_workshop(db_session, moderator, shown, title={"fr": "Archivé"})
