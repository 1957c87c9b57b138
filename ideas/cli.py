"""Idea board commands: importing a Pol.is conversation as a board."""

from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli_targets import campaign_and_actor
from app.errors import Problem
from app.extensions import db
from ideas.models import Board
from ideas.polis import PolisImport, import_polis

group = AppGroup("ideas", help="Idea boards.")
#: Comment ids listed in the report before the rest are counted.
SHOWN = 20


@group.command("import-polis")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--campaign", "campaign_id", type=int, required=True, help="Campaign id.")
@click.option("--as", "email", required=True, help="E-mail of the moderator or admin acting.")
@click.option("--board", "board_id", type=int, help="A board of the campaign (default: a new one).")
@click.option(
    "--language",
    default="en",
    show_default=True,
    help="Language the conversation was held in (Pol.is exports do not record it).",
)
def import_polis_command(
    folder: Path, campaign_id: int, email: str, board_id: int | None, language: str
):
    """Import a Pol.is open-data export (comments.csv, votes.csv) as ideas and supports."""
    campaign, actor = campaign_and_actor(campaign_id, email)
    board = None
    if board_id is not None:
        board = db.session.get(Board, board_id)
        if board is None:
            raise click.ClickException(f"There is no board {board_id}.")
    try:
        report = import_polis(db.session, actor, campaign, folder, board=board, language=language)
    except Problem as problem:
        db.session.rollback()
        lines = [str(problem.detail or "")]
        for where, messages in (problem.errors or {}).items():
            lines += [f"  {where}, {message}" for message in messages]
        raise click.ClickException("\n".join(line for line in lines if line)) from None
    db.session.commit()
    for line in report_lines(report):
        click.echo(line)


def report_lines(report: PolisImport) -> list[str]:
    """What the import found and stored, in the figures of the fixtures' README."""
    made = "new, draft: publish it in the console" if report.board_created else "existing"
    lines = [
        f"Board {report.board_id} ({made}).",
        f"participants: {report.participants:,} ({report.new_accounts:,} new accounts)",
        f"ideas: {report.ideas:,} ({report.moderated_in:,} published / "
        f"{len(report.unmoderated):,} unmoderated / {report.moderated_out:,} hidden), "
        f"{report.new_ideas:,} new",
    ]
    if report.unmoderated:
        ids = ", ".join(str(cid) for cid in report.unmoderated[:SHOWN])
        if len(report.unmoderated) > SHOWN:
            ids += f" and {len(report.unmoderated) - SHOWN:,} more"
        lines.append(f"  not moderated on Pol.is ({report.unmoderated_state} here): comment {ids}")
    if report.moderated_out:
        lines.append("  hidden: moderated out on Pol.is (the reason says so)")
    return [
        *lines,
        f"vote rows read: {report.vote_rows:,}",
        f"distinct voter x comment: {report.distinct_votes:,}",
        f"final agree / disagree / pass: {report.agree:,} / {report.disagree:,} / "
        f"{report.passed:,}",
        f"supports stored: {report.supports:,} ({report.new_supports:,} new)",
        "  disagree and pass are counted, not stored: ideas have supports only.",
    ]
