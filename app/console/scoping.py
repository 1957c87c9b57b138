"""What every city page of the console does first: find the city, check who may see it."""

from flask import Response, flash, g
from flask_login import current_user

from app import cities
from app.errors import Problem
from app.extensions import db
from app.models import City, User
from app.policy import ensure


def actor() -> User:
    """The signed-in person as a plain object, to hand to services."""
    return current_user._get_current_object()


def console_city(slug: str) -> City:
    """The city of a console page; someone without a role there is told it does not exist."""
    city = cities.get_city(db.session, slug)
    ensure(actor(), "console.enter", city)
    g.city = city  # times on the page are shown in the city's time zone
    return city


def refused(error: Problem, response: Response) -> Response:
    """A refused action: nothing of it is kept, the reason is flashed, the page shown again."""
    db.session.rollback()
    flash(error.detail, "error")
    return response
