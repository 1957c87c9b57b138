"""Signing in and out of the console (SECURITY.md, tests 8 and 12)."""

from datetime import timedelta

import time_machine

from app import accounts, cities
from app.db import utcnow
from app.extensions import db
from app.models import Role
from tests.conftest import PASSWORD
from tests.console.helpers import (
    LOGIN,
    csrf_token,
    html,
    post_form,
    redirects_to_login,
    sign_in,
    token_in,
)

COOKIE = "livinglab_session"


def _cookie(client) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def test_sign_in_opens_the_dashboard_and_lists_my_cities(client, people):
    response = sign_in(client, people["moderator"])
    assert response.location == "/console/"
    page = html(client.get("/console/"))
    assert "Lyon" in page
    assert "/console/lyon/campaigns" in page
    assert "/console/lyon/people" not in page  # a moderator does not manage people


def test_the_session_cookie_changes_on_sign_in(client, people):
    csrf_token(client)  # the login page puts a CSRF token into an anonymous session
    before = _cookie(client)
    assert before
    sign_in(client, people["moderator"])
    after = _cookie(client)
    assert after and after != before
    assert people["moderator"].email not in after


def test_the_old_cookie_no_longer_works_after_sign_out(client, new_client, people):
    sign_in(client, people["moderator"])
    stolen = _cookie(client)
    assert client.get("/console/lyon/campaigns").status_code == 200
    response = post_form(client, "/console/logout")
    assert redirects_to_login(response)
    assert redirects_to_login(client.get("/console/lyon/campaigns"))

    replay = new_client()
    replay.set_cookie(COOKIE, stolen)
    assert redirects_to_login(replay.get("/console/lyon/campaigns"))
    assert redirects_to_login(replay.get("/console/"))


def test_sign_out_needs_the_csrf_token(client, people):
    sign_in(client, people["moderator"])
    response = client.post("/console/logout")
    assert response.status_code == 400
    assert client.get("/console/").status_code == 200


def test_sign_in_needs_the_csrf_token(client, people):
    response = client.post(LOGIN, data={"email": people["moderator"].email, "password": PASSWORD})
    assert response.status_code == 400
    assert redirects_to_login(client.get("/console/"))


def test_a_resident_without_a_role_cannot_enter(client, people):
    response = post_form(client, LOGIN, {"email": "resident@lyon.example", "password": PASSWORD})
    assert response.status_code == 403
    assert "Your account has no access to the console." in html(response)
    assert redirects_to_login(client.get("/console/"))
    assert redirects_to_login(client.get("/console/lyon/campaigns"))


def test_a_wrong_password_is_refused_with_a_translated_message(client, people, translate):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de-DE,de;q=0.9"
    response = post_form(client, LOGIN, {"email": "moderator@lyon.example", "password": "nope"})
    assert response.status_code == 401
    page = html(response)
    assert '<html lang="de">' in page
    expected = translate("de", "The email address or the password is wrong.")
    assert expected in page


def test_someone_who_lost_every_role_is_shown_nothing_of_the_city(
    client, people, make_campaign, db_session
):
    make_campaign()
    sign_in(client, people["moderator"])
    assert client.get("/console/lyon/campaigns/block-7").status_code == 200
    moderator = people["moderator"]
    cities.revoke_role(db_session, people["admin"], moderator, moderator.city, Role.MODERATOR)
    db_session.commit()
    assert client.get("/console/lyon/campaigns/block-7").status_code == 404
    assert client.get("/console/lyon/campaigns").status_code == 404


def test_a_disabled_account_is_signed_out(client, people, db_session):
    sign_in(client, people["moderator"])
    accounts.set_disabled(db_session, people["admin"], people["moderator"], True)
    db.session.commit()
    assert redirects_to_login(client.get("/console/"))


def test_only_local_console_paths_are_followed_after_sign_in(client, people):
    token = csrf_token(client)
    data = {"email": "moderator@lyon.example", "password": PASSWORD, "csrf_token": token}
    response = client.post(f"{LOGIN}?next=https://evil.example/", data=data)
    assert response.location == "/console/"


def test_console_forms_work_over_https(new_client, people):
    """Flask-WTF checks the Referer on HTTPS; console pages must let browsers send it."""
    client = new_client()
    site = "https://console.example"
    page = client.get(LOGIN, base_url=site)
    assert page.headers["Referrer-Policy"] == "same-origin"
    data = {
        "email": "moderator@lyon.example",
        "password": PASSWORD,
        "csrf_token": token_in(html(page)),
    }
    assert client.post(LOGIN, data=data, base_url=site).status_code == 400  # no Referer
    response = client.post(LOGIN, data=data, base_url=site, headers={"Referer": f"{site}{LOGIN}"})
    assert response.status_code == 302
    assert response.location == "/console/"


def test_an_idle_session_ends(app, client, people):
    sign_in(client, people["moderator"])
    idle = timedelta(minutes=app.config["CONSOLE_IDLE_MINUTES"])
    with time_machine.travel(utcnow() + idle + timedelta(minutes=1)):
        assert redirects_to_login(client.get("/console/"))


def test_use_keeps_a_session_alive_but_not_past_its_lifetime(app, client, people):
    sign_in(client, people["moderator"])
    start = utcnow()
    step = timedelta(minutes=app.config["CONSOLE_IDLE_MINUTES"] - 5)
    lifetime = timedelta(hours=app.config["CONSOLE_MAX_HOURS"])
    moment = start + step
    while moment < start + lifetime:
        with time_machine.travel(moment):
            assert client.get("/console/").status_code == 200, moment - start
        moment += step
    with time_machine.travel(moment):
        assert redirects_to_login(client.get("/console/"))
