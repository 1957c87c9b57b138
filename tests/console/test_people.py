"""People and roles of a city: grant, revoke, disable and enable accounts."""

import pytest
import sqlalchemy as sa

from app.models import RoleGrant, User
from tests.console.helpers import csrf_token, html, post_form, redirects_to_login

PEOPLE = "/console/lyon/people"


def _roles(db_session, email, city) -> set[str]:
    db_session.expire_all()
    person = db_session.scalar(sa.select(User).where(User.email == email))
    return {g.role for g in person.grants if g.city_id == city.id}


def _disabled(db_session, email) -> bool:
    db_session.expire_all()
    return db_session.scalar(sa.select(User.disabled_at).where(User.email == email)) is not None


def test_the_list_shows_people_holding_roles_here(as_person, people):
    page = html(as_person("admin").get(PEOPLE))
    for email, role in (
        ("moderator@lyon.example", "Moderator"),
        ("staff@lyon.example", "City staff"),
        ("researcher@lyon.example", "Researcher"),
        ("admin@lyon.example", "City administrator"),
    ):
        assert email in page
        row = page.split(email, 1)[1].split("</tr>", 1)[0]
        assert f'<span class="badge">{role}</span>' in row
    assert "resident@lyon.example" not in page  # no role, not listed
    assert "moderator@vienna.example" not in page  # another city's people are not listed


def test_an_admin_grants_a_role_by_exact_email(as_person, people, lyon, db_session):
    client = as_person("admin")
    response = post_form(
        client, f"{PEOPLE}/grant", {"email": " Resident@Lyon.example ", "role": "staff"}
    )
    assert response.status_code == 303
    assert _roles(db_session, "resident@lyon.example", lyon) == {"staff"}
    page = html(client.get(PEOPLE))
    assert "resident@lyon.example now has the role City staff." in page


def test_a_role_can_go_to_someone_of_another_city(as_person, people, lyon, db_session):
    response = post_form(
        as_person("platform_admin"),
        f"{PEOPLE}/grant",
        {"email": "moderator@vienna.example", "role": "researcher"},
    )
    assert response.status_code == 303
    assert _roles(db_session, "moderator@vienna.example", lyon) == {"researcher"}


def test_granting_to_an_unknown_address_says_so(as_person, people, db_session):
    response = post_form(
        as_person("admin"), f"{PEOPLE}/grant", {"email": "x@nowhere.example", "role": "staff"}
    )
    assert response.status_code == 422
    page = html(response)
    assert "There is no account with this email address." in page
    assert 'aria-invalid="true"' in page
    assert db_session.scalar(sa.select(sa.func.count(RoleGrant.id))) == 5


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "resident@lyon.example", "role": "mayor"}, "Choose one of the roles."),
        ({"email": "not an address", "role": "staff"}, "Enter an email address such as"),
        ({"email": "", "role": "staff"}, "Enter an email address."),
    ],
)
def test_invalid_grants_are_refused(as_person, people, lyon, db_session, data, message):
    response = post_form(as_person("admin"), f"{PEOPLE}/grant", data)
    assert response.status_code == 422
    assert message in html(response)
    assert _roles(db_session, "resident@lyon.example", lyon) == set()


def test_granting_twice_changes_nothing(as_person, people, lyon, db_session):
    client = as_person("admin")
    data = {"email": "staff@lyon.example", "role": "staff"}
    assert post_form(client, f"{PEOPLE}/grant", data).status_code == 303
    assert _roles(db_session, "staff@lyon.example", lyon) == {"staff"}


def test_an_admin_revokes_a_role(as_person, people, lyon, db_session):
    researcher = people["researcher"].id
    client = as_person("admin")
    response = post_form(client, f"{PEOPLE}/{researcher}/roles/researcher/revoke")
    assert response.status_code == 303
    assert _roles(db_session, "researcher@lyon.example", lyon) == set()
    assert "researcher@lyon.example no longer has the role Researcher." in html(client.get(PEOPLE))


@pytest.mark.parametrize(
    ("who", "role"),
    [
        ("researcher", "moderator"),  # a role the person does not hold
        ("other_moderator", "moderator"),  # a role in another city only
        ("resident", "staff"),
        ("researcher", "mayor"),
    ],
)
def test_revoking_what_is_not_held_here_is_not_found(
    as_person, people, vienna, db_session, who, role
):
    grants = db_session.scalar(sa.select(sa.func.count(RoleGrant.id)))
    response = post_form(as_person("admin"), f"{PEOPLE}/{people[who].id}/roles/{role}/revoke")
    assert response.status_code == 404
    assert db_session.scalar(sa.select(sa.func.count(RoleGrant.id))) == grants


def test_revoking_an_unknown_person_is_not_found(as_person, people):
    assert post_form(as_person("admin"), f"{PEOPLE}/999999/roles/staff/revoke").status_code == 404


def test_an_admin_disables_and_enables_an_account(
    as_person, people, new_client, open_session, db_session
):
    moderator = open_session(new_client(), people["moderator"])
    assert moderator.get("/console/").status_code == 200
    client = as_person("admin")
    moderator_id = people["moderator"].id
    response = post_form(client, f"{PEOPLE}/{moderator_id}/disable")
    assert response.status_code == 303
    assert _disabled(db_session, "moderator@lyon.example")
    assert redirects_to_login(moderator.get("/console/"))  # signed out everywhere
    page = html(client.get(PEOPLE))
    assert "The account moderator@lyon.example is disabled" in page
    assert f"/console/lyon/people/{moderator_id}/enable" in page

    assert post_form(client, f"{PEOPLE}/{moderator_id}/enable").status_code == 303
    assert not _disabled(db_session, "moderator@lyon.example")


def test_an_account_of_another_city_cannot_be_disabled_here(as_person, people, db_session):
    other = people["other_moderator"].id
    assert post_form(as_person("admin"), f"{PEOPLE}/{other}/disable").status_code == 404
    assert not _disabled(db_session, "moderator@vienna.example")


def test_nobody_disables_their_own_account(as_person, people, db_session):
    response = post_form(as_person("admin"), f"{PEOPLE}/{people['admin'].id}/disable")
    assert response.status_code == 403
    assert not _disabled(db_session, "admin@lyon.example")


def test_a_city_admin_cannot_disable_a_platform_admin(
    as_person, people, make_person, lyon, db_session
):
    boss = make_person(lyon, "boss@lyon.example", platform_admin=True)
    db_session.commit()
    response = post_form(as_person("admin"), f"{PEOPLE}/{boss.id}/disable")
    assert response.status_code == 403
    assert not _disabled(db_session, "boss@lyon.example")


def test_find_an_account_of_this_city_to_disable_it(as_person, people, db_session):
    client = as_person("admin")
    response = post_form(client, f"{PEOPLE}/find", {"email": "resident@lyon.example"})
    assert response.status_code == 200
    page = html(response)
    assert "resident@lyon.example" in page
    resident = people["resident"].id
    assert f"/console/lyon/people/{resident}/disable" in page
    assert post_form(client, f"{PEOPLE}/{resident}/disable").status_code == 303
    assert _disabled(db_session, "resident@lyon.example")


@pytest.mark.parametrize("email", ["moderator@vienna.example", "nobody@lyon.example"])
def test_finding_gives_one_answer_for_missing_and_foreign_accounts(as_person, people, email):
    response = post_form(as_person("admin"), f"{PEOPLE}/find", {"email": email})
    assert response.status_code == 422
    page = html(response)
    assert "No account of Lyon has this email address." in page
    assert "/disable" not in page.split("find-heading", 1)[1]


def test_people_forms_need_the_csrf_token(as_person, people, lyon, db_session):
    client = as_person("admin")
    resident = people["resident"].id
    staff = people["staff"].id
    grant = {"email": "resident@lyon.example", "role": "staff"}
    assert client.post(f"{PEOPLE}/grant", data=grant).status_code == 400
    assert client.post(f"{PEOPLE}/{staff}/roles/staff/revoke").status_code == 400
    assert client.post(f"{PEOPLE}/{resident}/disable").status_code == 400
    assert _roles(db_session, "resident@lyon.example", lyon) == set()
    assert _roles(db_session, "staff@lyon.example", lyon) == {"staff"}
    assert not _disabled(db_session, "resident@lyon.example")


def test_a_moderator_cannot_grant_roles(as_person, people, lyon, db_session):
    client = as_person("moderator")
    data = {"email": "resident@lyon.example", "role": "admin", "csrf_token": csrf_token(client)}
    assert client.post(f"{PEOPLE}/grant", data=data).status_code == 403
    assert _roles(db_session, "resident@lyon.example", lyon) == set()


def test_markup_in_names_is_escaped(as_person, people, db_session):
    people["moderator"].display_name = '<img src=x onerror="alert(1)">'
    db_session.commit()
    page = html(as_person("admin").get(PEOPLE))
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
