"""Privacy commands for operators: the retention periods in force, and a retention run now."""

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db
from privacy.retention import POLICIES, run_retention

group = AppGroup("privacy", help="Retention of personal data.")


@group.command("retention")
def retention_command():
    """Print every retention policy: its period in days and what happens after."""
    for policy in POLICIES:
        days = policy.days(current_app.config)
        if policy.purge is None:
            source = f"{policy.setting}, job {policy.job}"
        else:
            source = f"RETENTION_{policy.name.upper()}_DAYS, at least {policy.minimum}"
        click.echo(f"{policy.name:24} {days:>5} days  ({source})")
        click.echo(f"{'':24} {policy.label}: {policy.what}")


@group.command("purge")
def purge_command():
    """Run the retention policies now, as the scheduler does, and print what each removed."""
    run = run_retention(db.session, trigger="command")
    for name, count in run.counts.items():
        failed = f"  FAILED: {run.failures[name]}" if name in run.failures else ""
        click.echo(f"{name:24} {count:>8} removed (older than {run.cutoffs[name]}){failed}")
    if run.failures:
        # The run is recorded all the same; the exit status tells a cron wrapper.
        raise click.ClickException(f"{len(run.failures)} policies failed; see the log.")
