"""Cities, managed by platform administrators."""

import pytest
import sqlalchemy as sa

from app.models import City
from tests.console.helpers import csrf_token, html, post_form

NEW = "/console/cities/new"
EDIT = "/console/cities/lyon/edit"


def _form(**changes) -> dict:
    data = {
        "slug": "marseille",
        "name": "Marseille",
        "timezone": "Europe/Paris",
        "default_locale": "fr",
        "enabled_locales": ["fr", "en", "it"],
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _city(db_session, slug) -> City | None:
    db_session.expire_all()
    return db_session.scalar(sa.select(City).where(City.slug == slug))


def test_the_list_shows_every_city(as_person):
    page = html(as_person("platform_admin").get("/console/cities"))
    assert "Lyon" in page and "Wien" in page
    assert "Europe/Vienna" in page
    assert 'href="/console/cities/lyon/edit"' in page
    assert 'href="/console/vienna/people"' in page


def test_only_platform_admins_see_the_cities_link(as_person):
    assert 'href="/console/cities"' in html(as_person("platform_admin").get("/console/"))
    assert 'href="/console/cities"' not in html(as_person("admin").get("/console/"))


def test_a_platform_admin_creates_a_city(as_person, db_session):
    client = as_person("platform_admin")
    page = html(client.get(NEW))
    assert '<optgroup label="Europe">' in page
    assert 'for="enabled_locales-0"' in page
    response = post_form(client, NEW, _form())
    assert response.status_code == 303
    city = _city(db_session, "marseille")
    assert city.name == "Marseille"
    assert city.timezone == "Europe/Paris"
    assert city.enabled_locales == ["fr", "en", "it"]
    assert "The city Marseille is created." in html(client.get("/console/cities"))


@pytest.mark.parametrize(
    ("changes", "field", "message", "status"),
    [
        ({"slug": "Mar seille"}, "slug", "Use lower-case letters, digits and single hyphens.", 422),
        ({"slug": ""}, "slug", "Enter a web address for the city.", 422),
        ({"slug": "lyon"}, "slug", "This address is already taken.", 409),
        ({"name": "  "}, "name", "Enter the city", 422),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Not a known time zone.", 422),
        (
            {"enabled_locales": ["en"]},
            "default_locale",
            "The default language must be one of the enabled languages.",
            422,
        ),
        (
            {"enabled_locales": ["fr", "tlh"]},
            "enabled_locales",
            "Choose one or more of the supported languages.",
            422,
        ),
        (
            {"enabled_locales": None},
            "enabled_locales",
            "Choose one or more of the supported languages.",
            422,
        ),
    ],
)
def test_invalid_cities_are_refused_next_to_the_field(
    as_person, db_session, changes, field, message, status
):
    response = post_form(as_person("platform_admin"), NEW, _form(**changes))
    assert response.status_code == status
    page = html(response)
    errors = page.split(f'id="{field}-errors"', 1)
    assert len(errors) == 2, field
    assert message in errors[1].split("</ul>", 1)[0]
    assert _city(db_session, "marseille") is None


def test_a_platform_admin_edits_a_city(as_person, db_session):
    client = as_person("platform_admin")
    page = html(client.get(EDIT))
    assert 'value="Lyon"' in page
    assert '<option selected value="Europe/Paris">Paris</option>' in page
    assert 'name="slug"' not in page  # the address stays
    data = _form(slug=None, name="Lyon Métropole", enabled_locales=["fr", "en", "es"])
    response = post_form(client, EDIT, data)
    assert response.status_code == 303
    city = _city(db_session, "lyon")
    assert city.name == "Lyon Métropole"
    assert city.enabled_locales == ["fr", "en", "es"]


def test_an_invalid_edit_changes_nothing(as_person, db_session):
    data = _form(slug=None, name="Autre", timezone="Nowhere/Land")
    response = post_form(as_person("platform_admin"), EDIT, data)
    assert response.status_code == 422
    assert _city(db_session, "lyon").name == "Lyon"


def test_city_forms_need_the_csrf_token(as_person, db_session):
    client = as_person("platform_admin")
    assert client.post(NEW, data=_form()).status_code == 400
    assert client.post(EDIT, data=_form(slug=None, name="Autre")).status_code == 400
    assert _city(db_session, "marseille") is None
    assert _city(db_session, "lyon").name == "Lyon"


def test_a_city_admin_cannot_change_the_citys_settings(as_person, db_session):
    client = as_person("admin")
    response = client.post(
        EDIT, data={**_form(slug=None, name="X"), "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 403
    assert _city(db_session, "lyon").name == "Lyon"


def test_markup_in_a_city_name_is_escaped(as_person):
    client = as_person("platform_admin")
    payload = "<script>alert(1)</script>"
    assert post_form(client, NEW, _form(name=payload)).status_code == 303
    for path in (
        "/console/cities",
        "/console/cities/marseille/edit",
        "/console/",
        "/console/marseille/campaigns",
        "/console/marseille/people",
    ):
        page = html(client.get(path))
        assert payload not in page
    page = html(client.get("/console/cities"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
