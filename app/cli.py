"""Operator commands: demo data, the scheduler, a first platform admin."""

import signal
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import demo, scheduler
from app.accounts import find_user_by_email
from app.cities import create_city, get_city
from app.db import utcnow
from app.errors import NotFound, Problem
from app.extensions import db
from app.models import User
from app.passwords import hash_password, password_problems
from energy.cli import group as energy_group
from i18n.cli import group as i18n_group
from ideas.cli import group as ideas_group
from privacy.cli import group as privacy_group
from privacy.deletion_cli import delete_account_command
from surveys.cli import group as surveys_group

demo_group = AppGroup("demo", help="Demo data for trying Living Lab out.")
accounts_group = AppGroup("accounts", help="Accounts.")
cities_group = AppGroup("cities", help="Cities taking part.")
accounts_group.add_command(delete_account_command)


@demo_group.command("load")
def load_demo():
    """Load demo cities, campaigns and accounts, once; passwords are printed only then."""
    if demo.already_loaded(db.session):
        click.echo("Demo data is already loaded (passwords were printed when it was).")
        return
    credentials = demo.load(db.session)
    db.session.commit()
    click.echo("Demo data loaded. These passwords are shown only now:")
    for email, password in credentials:
        click.echo(f"  {email:32} {password}")


@accounts_group.command("create-admin")
@click.option("--email", required=True)
@click.option("--city", "city_slug", required=True, help="Home city slug.")
@click.password_option()
def create_admin(email: str, city_slug: str, password: str):
    """Create a platform admin (the first one, on a new deployment)."""
    problems = password_problems(password, email)
    if problems:
        raise click.ClickException(" ".join(problems))
    if find_user_by_email(db.session, email) is not None:
        raise click.ClickException(f"An account with {email} exists already.")
    try:
        city = get_city(db.session, city_slug)
    except NotFound:
        raise click.ClickException(f"There is no city {city_slug!r}; create it first.") from None
    db.session.add(
        User(
            email=email.strip().lower(),
            password_hash=hash_password(password),
            city_id=city.id,
            is_platform_admin=True,
            email_verified_at=utcnow(),
        )
    )
    db.session.commit()
    click.echo(f"Platform admin {email} created.")


@cities_group.command("create")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--timezone", required=True, help="IANA time zone, e.g. Europe/Madrid.")
@click.option("--default-locale", required=True)
@click.option("--locales", required=True, help="Comma-separated, e.g. gl,es,en.")
def create_city_command(slug, name, timezone, default_locale, locales):
    """Create a city (a new deployment's first one, before any admin exists)."""
    try:
        create_city(
            db.session,
            slug=slug,
            name=name,
            timezone=timezone,
            default_locale=default_locale,
            enabled_locales=[loc.strip() for loc in locales.split(",") if loc.strip()],
        )
    except Problem as problem:
        raise click.ClickException(str(problem.errors or problem.detail)) from None
    db.session.commit()
    click.echo(f"City {slug} created.")


@click.command("scheduler")
@click.option("--lease-seconds", default=30, show_default=True)
def scheduler_command(lease_seconds: int):
    """Run the scheduler until interrupted; several may run, one leads."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    scheduler.run(current_app._get_current_object(), stop, lease_seconds=lease_seconds)


def register(app: Flask) -> None:
    for command in (
        i18n_group,
        demo_group,
        accounts_group,
        cities_group,
        scheduler_command,
        surveys_group,
        ideas_group,
        energy_group,
        privacy_group,
    ):
        app.cli.add_command(command)
