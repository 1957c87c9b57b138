"""Cities (tenants) and the roles people hold in them."""

import math
import re
from collections.abc import Sequence
from zoneinfo import available_timezones

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid, NotFound
from app.models import City, Role, RoleGrant, User
from app.policy import ensure
from i18n import LOCALES, _

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slug_problem(slug: str, max_length: int) -> str | None:
    """Why ``slug`` cannot name something in a web address, or None when it can."""
    if not slug or len(slug) > max_length or not SLUG.match(slug):
        return _("Use lower-case letters, digits and single hyphens.")
    return None


def get_city(session: Session, slug: str) -> City:
    city = session.scalar(sa.select(City).where(City.slug == slug))
    if city is None:
        raise NotFound()
    return city


def list_cities(session: Session) -> list[City]:
    return list(session.scalars(sa.select(City).order_by(City.name)))


def _validate_city(
    name: str, timezone: str, default_locale: str, enabled_locales: list[str]
) -> list[str]:
    errors: dict[str, list[str]] = {}
    if not name.strip() or len(name) > 200:
        errors["name"] = [_("Give the city a name of at most 200 characters.")]
    if timezone not in available_timezones():
        errors["timezone"] = [_("Not a known time zone.")]
    unknown = [loc for loc in enabled_locales if loc not in LOCALES]
    if unknown or not enabled_locales:
        errors["enabled_locales"] = [_("Choose one or more of the supported languages.")]
    if default_locale not in enabled_locales:
        errors["default_locale"] = [_("The default language must be one of the enabled languages.")]
    if errors:
        raise Invalid(errors=errors)
    # Keep the default first and the rest in the programme's order.
    return [default_locale] + [
        loc for loc in LOCALES if loc in enabled_locales and loc != default_locale
    ]


#: The edges of a city's area, in the order stored, with the degrees each may take.
BOUNDS = (("south", 90.0), ("west", 180.0), ("north", 90.0), ("east", 180.0))


def checked_bounds(bounds: Sequence[float | None] | None) -> list[float] | None:
    """The city's area as stored ([south, west, north, east] in degrees), or None for none.

    All four edges or none; the south edge south of the north edge and the west edge west
    of the east edge (an area across the antimeridian is not offered).
    """
    if bounds is None or all(edge is None for edge in bounds):
        return None
    if len(bounds) != len(BOUNDS) or any(edge is None for edge in bounds):
        raise Invalid(errors={"bounds": [_("Enter all four edges of the area, or none.")]})
    errors: dict[str, list[str]] = {}
    for (name, limit), edge in zip(BOUNDS, bounds, strict=True):
        if not (math.isfinite(edge) and -limit <= edge <= limit):
            errors[name] = [_("Between %(min)d and %(max)d degrees.", min=-limit, max=limit)]
    south, west, north, east = (float(edge) for edge in bounds)
    if "north" not in errors and "south" not in errors and not south < north:
        errors["north"] = [_("The north edge must lie north of the south edge.")]
    if "east" not in errors and "west" not in errors and not west < east:
        errors["east"] = [_("The east edge must lie east of the west edge.")]
    if errors:
        raise Invalid(errors=errors)
    return [south, west, north, east]


def inside_area(bounds: Sequence[float] | None, latitude: float, longitude: float) -> bool:
    """Whether a place lies in a city's area ([south, west, north, east]); any place does when
    the city has none."""
    if not bounds:
        return True
    south, west, north, east = bounds
    if not south <= latitude <= north:
        return False
    # An area across the antimeridian has its west edge east of its east edge.
    return west <= longitude <= east if west <= east else longitude >= west or longitude <= east


def create_city(
    session: Session,
    *,
    slug: str,
    name: str,
    timezone: str,
    default_locale: str,
    enabled_locales: list[str],
    bounds: Sequence[float | None] | None = None,
) -> City:
    locales = _validate_city(name, timezone, default_locale, enabled_locales)
    area = checked_bounds(bounds)
    problem = slug_problem(slug, 64)
    if problem:
        raise Invalid(errors={"slug": [problem]})
    if session.scalar(sa.select(City.id).where(City.slug == slug)) is not None:
        raise Conflict(errors={"slug": [_("This address is already taken.")]})
    city = City(
        slug=slug,
        name=name.strip(),
        timezone=timezone,
        default_locale=default_locale,
        enabled_locales=locales,
        bounds=area,
    )
    try:
        with session.begin_nested():
            session.add(city)
    except IntegrityError:
        # Created a moment ago by a concurrent request with the same address.
        raise Conflict(errors={"slug": [_("This address is already taken.")]}) from None
    return city


def update_city(
    session: Session,
    city: City,
    *,
    name: str,
    timezone: str,
    default_locale: str,
    enabled_locales: list[str],
    bounds: Sequence[float | None] | None = None,
) -> City:
    locales = _validate_city(name, timezone, default_locale, enabled_locales)
    city.bounds = checked_bounds(bounds)
    city.enabled_locales = locales
    city.name, city.timezone, city.default_locale = name.strip(), timezone, default_locale
    session.flush()
    return city


def people_with_roles(session: Session, city: City) -> list[User]:
    """Everyone holding a role in the city, by email."""
    return list(
        session.scalars(
            sa.select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.city_id == city.id)
            .distinct()
            .order_by(User.email)
        )
    )


def grant_role(session: Session, actor: User, user: User, city: City, role: Role) -> RoleGrant:
    """Give a person a role in a city; granting it twice changes nothing."""
    ensure(actor, "people.manage", city)
    existing = session.scalar(
        sa.select(RoleGrant).where(
            RoleGrant.user_id == user.id, RoleGrant.city_id == city.id, RoleGrant.role == role
        )
    )
    if existing is not None:
        return existing
    grant = RoleGrant(user_id=user.id, city_id=city.id, role=role, granted_by_id=actor.id)
    session.add(grant)
    session.flush()
    session.refresh(user, ["grants"])
    return grant


def revoke_role(session: Session, actor: User, user: User, city: City, role: Role) -> None:
    """Take a role away; admins cannot take away their own admin role (and lock themselves out)."""
    ensure(actor, "people.manage", city)
    if actor.id == user.id and role == Role.ADMIN:
        raise Conflict(
            _("You cannot remove your own administrator role; ask another administrator."),
            slug="own-admin-role",
        )
    session.execute(
        sa.delete(RoleGrant).where(
            RoleGrant.user_id == user.id, RoleGrant.city_id == city.id, RoleGrant.role == role
        )
    )
    session.flush()
    session.refresh(user, ["grants"])
