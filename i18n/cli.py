"""``flask i18n extract|update|compile|stats``."""

import sys

import click
from flask.cli import AppGroup

from i18n import catalogs

group = AppGroup("i18n", help="Translation catalogs.")


@group.command("extract")
def extract_command():
    """Collect translatable strings into i18n/messages.pot."""
    click.echo(f"wrote {catalogs.extract()}")


@group.command("update")
def update_command():
    """Extract, then merge new strings into every locale's catalog."""
    catalogs.update(catalogs.extract())
    click.echo("catalogs updated; translate the new strings, then run `flask i18n stats`")


@group.command("compile")
def compile_command():
    """Compile every catalog to .mo (done by make before the app runs)."""
    problems = catalogs.compile_all()
    for problem in problems:
        click.echo(problem, err=True)
    sys.exit(1 if problems else 0)


@group.command("stats")
@click.option("--check", is_flag=True, help="Exit 1 when a catalog is incomplete.")
def stats_command(check: bool):
    """Per-locale completeness against the current source strings."""
    report = catalogs.completeness(catalogs.extract())
    for row in report:
        click.echo(f"{row.locale:3} {row.translated:5}/{row.total:<5} {row.percent:6.1f} %")
        for msgid in row.missing[:5]:
            click.echo(f"      missing: {msgid[:70]!r}")
    if check and any(row.missing for row in report):
        sys.exit(1)
