"""People and their roles in one city: grant and revoke roles, disable and enable accounts.

Only the city's administrators and platform administrators reach these pages (policy
action ``people.manage``). Accounts are looked up by exact email address, so no page lists
the residents of a city, let alone those of other cities.
"""

import logging

from flask import flash, redirect, render_template, url_for
from flask_login import login_required

from app import accounts, cities
from app.console.blueprint import bp
from app.console.forms import FindAccountForm, GrantRoleForm
from app.console.labels import ROLE_NAMES
from app.console.scoping import actor, console_city, refused
from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import City, Role, User
from app.policy import can, ensure
from i18n import _

log = logging.getLogger("livinglab.console")

ROLE_VALUES = frozenset(role.value for role in Role)


def _people_city(city_slug: str) -> City:
    city = console_city(city_slug)
    ensure(actor(), "people.manage", city)
    return city


def _page(city: City, grant_form=None, find_form=None, found=None, status=200):
    people = cities.people_with_roles(db.session, city)
    return render_template(
        "console/people.html",
        city=city,
        people=people,
        roles={person.id: sorted(person.roles_in(city.id)) for person in people},
        grant_form=grant_form or GrantRoleForm(),
        find_form=find_form or FindAccountForm(),
        found=found,
        may_switch=lambda person: _may_switch_account(person, city),
    ), status


def _to_people(city: City):
    return redirect(url_for("console.list_people", city_slug=city.slug), 303)


def _may_switch_account(person: User, city: City) -> bool:
    """Whether this page offers to disable or enable the account (policy ``account.switch``)."""
    return person.city_id == city.id and can(actor(), "account.switch", person)


@bp.get("/<city_slug>/people")
@login_required
def list_people(city_slug: str):
    return _page(_people_city(city_slug))


@bp.post("/<city_slug>/people/grant")
@login_required
def grant_role(city_slug: str):
    city = _people_city(city_slug)
    form = GrantRoleForm()
    if not form.validate():
        return _page(city, grant_form=form, status=422)
    person = accounts.find_user_by_email(db.session, form.email.data)
    if person is None:
        form.email.errors = [
            _(
                "There is no account with this email address. "
                "The person must sign up in the app first."
            )
        ]
        return _page(city, grant_form=form, status=422)
    role = Role(form.role.data)
    cities.grant_role(db.session, actor(), person, city, role)
    db.session.commit()
    log.info(
        "role granted",
        extra={"user_id": actor().id, "target_id": person.id, "city": city.slug, "role": role},
    )
    flash(
        _("%(email)s now has the role %(role)s.", email=person.email, role=ROLE_NAMES[role]),
        "success",
    )
    return _to_people(city)


@bp.post("/<city_slug>/people/<int:user_id>/roles/<role>/revoke")
@login_required
def revoke_role(city_slug: str, user_id: int, role: str):
    city = _people_city(city_slug)
    person = db.session.get(User, user_id)
    if role not in ROLE_VALUES or person is None or Role(role) not in person.roles_in(city.id):
        raise NotFound()
    try:
        cities.revoke_role(db.session, actor(), person, city, Role(role))
    except Conflict as error:
        return refused(error, _to_people(city))
    db.session.commit()
    log.info(
        "role revoked",
        extra={"user_id": actor().id, "target_id": person.id, "city": city.slug, "role": role},
    )
    flash(
        _(
            "%(email)s no longer has the role %(role)s.",
            email=person.email,
            role=ROLE_NAMES[Role(role)],
        ),
        "success",
    )
    return _to_people(city)


@bp.post("/<city_slug>/people/find")
@login_required
def find_account(city_slug: str):
    """Find an account of this city by exact address, to disable or enable it."""
    city = _people_city(city_slug)
    form = FindAccountForm()
    if not form.validate():
        return _page(city, find_form=form, status=422)
    person = accounts.find_user_by_email(db.session, form.email.data)
    if person is None or person.city_id != city.id:
        # The same answer whether the account does not exist or lives in another city.
        form.email.errors = [_("No account of %(city)s has this email address.", city=city.name)]
        return _page(city, find_form=form, status=422)
    return _page(city, find_form=form, found=person)


def _switch_account(city_slug: str, user_id: int, disabled: bool):
    city = _people_city(city_slug)
    person = db.session.get(User, user_id)
    if person is None or person.city_id != city.id:
        raise NotFound()
    accounts.set_disabled(db.session, actor(), person, disabled)
    db.session.commit()
    log.info(
        "account disabled" if disabled else "account enabled",
        extra={"user_id": actor().id, "target_id": person.id, "city": city.slug},
    )
    if disabled:
        message = _(
            "The account %(email)s is disabled and signed out everywhere.", email=person.email
        )
    else:
        message = _("The account %(email)s can be used again.", email=person.email)
    flash(message, "success")
    return _to_people(city)


@bp.post("/<city_slug>/people/<int:user_id>/disable")
@login_required
def disable_account(city_slug: str, user_id: int):
    return _switch_account(city_slug, user_id, disabled=True)


@bp.post("/<city_slug>/people/<int:user_id>/enable")
@login_required
def enable_account(city_slug: str, user_id: int):
    return _switch_account(city_slug, user_id, disabled=False)
