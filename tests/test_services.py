"""Rules the services keep whoever calls them: the console, the API, a command or a job."""

from datetime import timedelta

import pytest

from app import accounts, cities
from app.db import utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.models import Role
from campaigns import service


def test_admins_cannot_remove_their_own_admin_role(db_session, lyon, make_user):
    admin = make_user(lyon, role=Role.ADMIN)
    with pytest.raises(Conflict):
        cities.revoke_role(db_session, admin, admin, lyon, Role.ADMIN)
    other = make_user(lyon, role=Role.ADMIN)
    cities.revoke_role(db_session, other, admin, lyon, Role.ADMIN)
    assert admin.roles_in(lyon.id) == set()


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.STAFF, Role.RESEARCHER])
def test_only_admins_grant_roles(db_session, lyon, make_user, role):
    actor, person = make_user(lyon, role=role), make_user(lyon)
    with pytest.raises(NotAllowed):
        cities.grant_role(db_session, actor, person, lyon, Role.MODERATOR)
    assert person.roles_in(lyon.id) == set()


def test_an_admin_of_another_city_grants_nothing_here(db_session, lyon, vienna, make_user):
    with pytest.raises(NotFound):
        cities.grant_role(
            db_session, make_user(vienna, role=Role.ADMIN), make_user(lyon), lyon, Role.STAFF
        )


def test_who_may_disable_an_account(db_session, lyon, vienna, make_user):
    admin = make_user(lyon, role=Role.ADMIN)
    resident, root = make_user(lyon), make_user(lyon, platform_admin=True)
    with pytest.raises(NotAllowed):
        accounts.set_disabled(db_session, admin, admin, True)  # not oneself
    with pytest.raises(NotAllowed):
        accounts.set_disabled(db_session, admin, root, True)  # not a platform admin
    with pytest.raises(NotAllowed):
        accounts.set_disabled(db_session, make_user(vienna, role=Role.ADMIN), resident, True)
    accounts.set_disabled(db_session, admin, resident, True)
    assert resident.disabled_at is not None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"slug": "new"}, "slug"),
        ({"slug": "Has Spaces"}, "slug"),
        ({"slug": "x" * 81}, "slug"),
        ({"cover_image_url": "https://example.org/" + "a" * 500}, "cover_image_url"),
        ({"cover_image_url": "http://example.org/plain.jpg"}, "cover_image_url"),
        ({"title": {"fr": "T", "de": "Nicht hier"}}, "title"),
        ({"title": {"en": "Only English"}}, "title"),
        ({"phases": [{"title": {"fr": "x" * 201}}]}, "phases"),
        ({"phases": [{"title": {"ja": "フェーズ", "fr": "Phase"}}]}, "phases"),
    ],
)
def test_campaign_input_the_services_refuse(db_session, lyon, make_user, values, field):
    now = utcnow()
    for phase in values.get("phases", []):
        phase.update(starts_at=now, ends_at=now + timedelta(days=1))
    values = {"slug": "fine", "title": {"fr": "Titre"}, **values}
    with pytest.raises(Invalid) as refused:
        service.create_campaign(db_session, make_user(lyon, role=Role.MODERATOR), lyon, **values)
    assert field in refused.value.errors


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"slug": "Lyon!"}, "slug"),
        ({"name": " "}, "name"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"enabled_locales": ["fr", "xx"]}, "enabled_locales"),
        ({"default_locale": "de"}, "default_locale"),
    ],
)
def test_city_input_the_service_refuses(db_session, values, field):
    values = {
        "slug": "marseille",
        "name": "Marseille",
        "timezone": "Europe/Paris",
        "default_locale": "fr",
        "enabled_locales": ["fr"],
        **values,
    }
    with pytest.raises(Invalid) as refused:
        cities.create_city(db_session, **values)
    assert field in refused.value.errors
