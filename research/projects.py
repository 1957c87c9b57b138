"""Research projects of a city: exports made in one project share its pseudonym key (made
here, sealed at rest), so the project's researchers can join them deliberately; exports outside
a project each get a key of their own that is never stored."""

import base64
import secrets

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.errors import Invalid, NotAllowed
from app.models import City, User
from app.policy import can
from app.sealed import seal, unseal
from i18n import _
from research.models import ResearchProject

NAME_MAX, DESCRIPTION_MAX = 120, 2000


def create_project(
    session: Session, user: User, city: City, name: str, description: str
) -> ResearchProject:
    """A project of the city whose exports share one pseudonym key (made here, sealed)."""
    if not can(user, "research.projects", city):
        raise NotAllowed()
    name = (name or "").strip()
    description = (description or "").strip()
    errors: dict[str, list[str]] = {}
    taken = _("A project of this city already has this name.")
    if not 1 <= len(name) <= NAME_MAX:
        errors["name"] = [_("Enter a name of at most %(max)d characters.", max=NAME_MAX)]
    elif session.scalar(
        sa.select(ResearchProject.id).where(
            ResearchProject.city_id == city.id, ResearchProject.name == name
        )
    ):
        errors["name"] = [taken]
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [_("Enter at most %(max)d characters.", max=DESCRIPTION_MAX)]
    if errors:
        raise Invalid(errors=errors)
    key = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    project = ResearchProject(
        city_id=city.id,
        name=name,
        description=description,
        key_sealed=seal(key),
        created_by_id=user.id,
    )
    try:
        with session.begin_nested():
            session.add(project)
    except IntegrityError:
        # Created a moment ago under the same name by a concurrent request.
        raise Invalid(errors={"name": [taken]}) from None
    audit.record(
        session, user, "research.project.create", "research_project", project.id, city_id=city.id
    )
    session.flush()
    return project


def projects_for(session: Session, city: City) -> list[ResearchProject]:
    """The city's open projects, by name."""
    return list(
        session.scalars(
            sa.select(ResearchProject)
            .where(ResearchProject.city_id == city.id, ResearchProject.closed_at.is_(None))
            .order_by(ResearchProject.name, ResearchProject.id)
        )
    )


def project_key(project: ResearchProject) -> bytes:
    """The project's pseudonym key, unsealed."""
    return base64.b64decode(unseal(project.key_sealed))
