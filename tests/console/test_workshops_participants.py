"""A workshop's participants in the console: seats, the waitlist in order, answers (for
moderators only), removing, confirming and inviting people, and the CSV for the organisers."""

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.models import Role, User
from campaigns.models import Campaign
from notifications.models import Notification
from tests.console import workshop_helpers
from tests.console.helpers import html, post_form
from tests.console.workshop_helpers import get, in_app, make_workshop, named_people, registration_of
from workshops import registrations
from workshops.models import Registration, Workshop

# The published campaign "atelier" of Lyon the workshop is on.
campaign = workshop_helpers.campaign
FORMULA = '=HYPERLINK("https://evil.example","x")'


@pytest.fixture
def world(app, db_session, people, campaign, make_person, lyon):
    """A 2-seat workshop: Amélie and Bruno on the seats, Chloé then Dan on the waitlist, Eve
    (whose name is a formula) invited; answers to its questions."""
    names = {
        "amelie": "Amélie Martin",
        "bruno": "Bruno Petit",
        "chloe": "Chloé Durand",
        "dan": "Dan Lee",
        "eve": FORMULA,
    }
    ids = named_people(db_session, make_person, lyon, names)
    operator_id, campaign_id = people["platform_admin"].id, campaign.id
    with in_app(app) as session:
        operator = get(session, User, operator_id)
        workshop = make_workshop(session, operator, get(session, Campaign, campaign_id), capacity=2)
        answers = {
            "amelie": {"diet": "vegan", "access": "Fauteuil roulant"},
            "bruno": {"access": "-1+2 places"},
            "chloe": {},
            "dan": {"diet": "none"},
        }
        for key, given in answers.items():
            registrations.register(session, get(session, User, ids[key]), workshop, answers=given)
        registrations.invite(session, operator, workshop, get(session, User, ids["eve"]))
        ids["workshop"] = workshop.id
    return ids


def _url(world, suffix="") -> str:
    return f"/console/lyon/workshops/{world['workshop']}{suffix}"


def test_the_page_shows_seats_waitlist_invitations_and_answers(as_person, world):
    page = html(as_person("moderator").get(_url(world, "/participants")))
    confirmed, rest = page.split('id="waitlisted"')
    waitlist, rest = rest.split('id="invited"')
    invited, gone = rest.split('id="gone"')
    assert "Amélie Martin" in confirmed and "Bruno Petit" in confirmed
    assert "Vegan" in confirmed and "Fauteuil roulant" in confirmed  # answers, choice labels
    assert waitlist.index("Chloé Durand") < waitlist.index("Dan Lee")  # arrival order
    assert '<td data-label="Position">1</td>' in waitlist
    assert "<strong>=HYPERLINK(&#34;https://evil.example&#34;" in invited  # shown as text
    assert "Nobody." in gone
    assert "2 / 2 seats, 2 waiting" in page
    assert "Give a seat" not in page  # no seat is free


def test_removing_someone_gives_the_seat_to_the_first_waiting_and_tells_both(
    as_person, db_session, world
):
    client = as_person("moderator")
    amelie = registration_of(db_session, world, "amelie")
    response = post_form(
        client,
        _url(world, f"/participants/{amelie.id}/remove"),
        {"reason": "Inscription en double."},
        page=_url(world, "/participants"),
    )
    assert response.status_code == 303
    assert response.location.endswith(_url(world, "/participants"))
    assert registration_of(db_session, world, "amelie").status == "removed"
    assert registration_of(db_session, world, "chloe").status == "confirmed"
    assert registration_of(db_session, world, "dan").status == "waitlisted"
    told = {
        (n.user_id, n.dedupe_key.split(":")[4])
        for n in db_session.scalars(
            sa.select(Notification).where(Notification.kind == "workshop.registration")
        )
    }
    assert (world["amelie"], "removed") in told and (world["chloe"], "promoted") in told
    assert (world["dan"], "promoted") not in told
    page = html(client.get(response.location))
    assert "Amélie Martin is removed from the workshop and told." in page
    assert "Reason: Inscription en double." in page


def test_a_waiting_person_gets_a_seat_by_hand_only_when_one_is_free(
    app, as_person, db_session, world
):
    client = as_person("moderator")
    dan = registration_of(db_session, world, "dan")
    full = post_form(client, _url(world, f"/participants/{dan.id}/confirm"), page=_url(world))
    assert "No seat is free" in html(client.get(full.location))
    assert registration_of(db_session, world, "dan").status == "waitlisted"
    with in_app(app) as session:
        get(session, Workshop, world["workshop"]).capacity = 3  # no promotion: by hand below
    page = html(client.get(_url(world, "/participants")))
    assert "Give a seat" in page
    done = post_form(client, _url(world, f"/participants/{dan.id}/confirm"), page=_url(world))
    assert done.status_code == 303
    assert registration_of(db_session, world, "dan").status == "confirmed"
    assert "Dan Lee has a seat now and is told." in html(client.get(done.location))


def test_a_resident_is_found_by_name_or_email_and_invited(
    as_person, db_session, world, make_person, lyon, vienna
):
    make_person(lyon, "fatou@lyon.example").display_name = "Fatou Diallo"
    make_person(vienna, "fatou@wien.example").display_name = "Fatou Wien"
    db_session.commit()
    client = as_person("moderator")
    page = html(client.get(_url(world, "/participants?q=fatou")))
    assert "Fatou Diallo" in page and "Fatou Wien" not in page  # only the city's residents
    registered = html(client.get(_url(world, "/participants?q=amelie")))
    assert "No resident of the city who is not yet registered matches." in registered
    fatou = db_session.scalar(sa.select(User).where(User.email == "fatou@lyon.example"))
    response = post_form(
        client, _url(world, "/participants/invite"), {"user_id": str(fatou.id)}, _url(world)
    )
    assert response.status_code == 303
    assert registration_of(db_session, world, "amelie") is not None
    invited = db_session.scalar(sa.select(Registration).where(Registration.user_id == fatou.id))
    assert invited.status == "invited"
    assert "Fatou Diallo is invited and told." in html(client.get(response.location))


def test_inviting_someone_of_another_city_or_nobody_is_refused(
    as_person, db_session, world, make_person, vienna
):
    stranger = make_person(vienna, "hans@wien.example")
    db_session.commit()
    client = as_person("moderator")
    invite = _url(world, "/participants/invite")
    assert post_form(client, invite, {"user_id": str(stranger.id)}, _url(world)).status_code == 404
    assert post_form(client, invite, {"user_id": "99999999"}, _url(world)).status_code == 404
    assert post_form(client, invite, {"user_id": "x"}, _url(world)).status_code == 400
    assert (
        db_session.scalar(sa.select(sa.func.count()).where(Registration.user_id == stranger.id))
        == 0
    )


def test_the_csv_has_a_column_per_question_and_neutralised_cells(as_person, world):
    response = as_person("moderator").get(_url(world, "/participants.csv"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="workshop-{world["workshop"]}-')
    assert disposition.endswith('-participants.csv"')
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:7] == [
        "registration_id",
        "name",
        "email",
        "status",
        "waitlist_position",
        "registered_at",
        "checked_in_at",
    ]
    assert header[7:] == ["diet", "access"]
    by_name = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert list(by_name) == [
        "Amélie Martin",
        "Bruno Petit",
        "Chloé Durand",
        "Dan Lee",
        "'" + FORMULA,
    ]
    assert by_name["Amélie Martin"]["diet"] == "Vegan"  # the exporter's language
    assert by_name["Bruno Petit"]["access"] == "'-1+2 places"
    assert by_name["Chloé Durand"]["waitlist_position"] == "1"
    assert by_name["Dan Lee"]["waitlist_position"] == "2"
    assert by_name["'" + FORMULA]["status"] == "invited"
    assert by_name["Amélie Martin"]["registered_at"].endswith(("+01:00", "+02:00"))
    assert as_person("moderator").get(_url(world, "/participants.csv?x=1")).status_code == 400


@pytest.mark.parametrize("who", ["staff", "researcher", "other_moderator", None])
def test_only_the_citys_moderators_see_participants_and_their_answers(as_person, world, who):
    client = as_person(who)
    for suffix in ("/participants", "/participants.csv"):
        response = client.get(_url(world, suffix))
        assert response.status_code in (302, 403, 404)
        assert "Fauteuil roulant" not in html(response)


def test_participant_forms_need_their_csrf_token(as_person, db_session, world):
    client = as_person("moderator")
    amelie = registration_of(db_session, world, "amelie")
    for suffix in (
        f"/participants/{amelie.id}/remove",
        f"/participants/{amelie.id}/confirm",
        "/participants/invite",
    ):
        response = client.post(_url(world, suffix), data={"user_id": str(world["amelie"])})
        assert response.status_code == 400, suffix
    assert registration_of(db_session, world, "amelie").status == "confirmed"


def test_a_registration_of_another_workshop_is_not_found(app, as_person, db_session, world, people):
    operator_id = people["platform_admin"].id
    campaign_id = get(db_session, Workshop, world["workshop"]).campaign_id
    with in_app(app) as session:
        other = make_workshop(
            session,
            get(session, User, operator_id),
            get(session, Campaign, campaign_id),
            starts_in=timedelta(days=9),
        )
        other_id = other.id
    amelie = registration_of(db_session, world, "amelie")
    client = as_person("moderator")
    response = post_form(
        client,
        f"/console/lyon/workshops/{other_id}/participants/{amelie.id}/remove",
        {"reason": "x"},
        _url(world),
    )
    assert response.status_code == 404
    assert registration_of(db_session, world, "amelie").status == "confirmed"


def test_staff_do_not_get_the_workshops_link(as_person):
    assert "/console/lyon/workshops" not in html(as_person("staff").get("/console/lyon/campaigns"))
    assert "/console/lyon/workshops" in html(as_person("admin").get("/console/lyon/campaigns"))
    assert Role.ADMIN  # admins run workshops as moderators do
