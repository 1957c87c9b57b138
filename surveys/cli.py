"""Survey commands: importing an XLSForm as a draft survey."""

from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli_targets import campaign_and_actor
from app.errors import Problem
from app.extensions import db
from surveys.xlsform import import_survey
from surveys.xlsform_workbook import MAX_UPLOAD_BYTES

group = AppGroup("surveys", help="Resident surveys.")


@group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", "campaign_id", type=int, required=True, help="Campaign id.")
@click.option("--as", "email", required=True, help="E-mail of the moderator or admin acting.")
def import_command(path: Path, campaign_id: int, email: str):
    """Create a draft survey of a campaign from an XLSForm (.xlsx or .xls)."""
    campaign, actor = campaign_and_actor(campaign_id, email)
    with path.open("rb") as file:
        data = file.read(MAX_UPLOAD_BYTES + 1)
    try:
        survey, imported = import_survey(db.session, actor, campaign, data, path.name)
    except Problem as problem:
        db.session.rollback()
        raise click.ClickException(str(problem.errors or problem.detail)) from None
    db.session.commit()
    counts = imported.counts
    click.echo(
        f"Draft survey {survey.id} created: {counts['imported_questions']} of "
        f"{counts['questions']} questions imported."
    )
    for entry in imported.report:
        where = ", ".join(
            str(part) for part in (entry["sheet"], entry["row"], entry["column"]) if part
        )
        click.echo(f"  {where}: {entry['reason']}")
