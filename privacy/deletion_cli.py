"""``flask accounts delete EMAIL``: an operator deletes an account on the person's written
request (or by law), as the person would from the app, without their password."""

import click

from app.accounts import find_user_by_email
from app.errors import NotFound
from app.extensions import db
from privacy.deletion import delete_account


def _table(counts: dict[str, int]) -> str:
    return ", ".join(f"{table} {rows}" for table, rows in sorted(counts.items())) or "none"


@click.command("delete")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_account_command(email: str, yes: bool):
    """Delete the account with this e-mail and everything only about it, for good."""
    user = find_user_by_email(db.session, email)
    if user is None:
        raise click.ClickException("There is no account with this e-mail.")
    if not yes:
        click.confirm(
            f"Delete account #{user.id} for good? Its ideas and comments stay, "
            "from a deleted participant",
            abort=True,
        )
    try:
        counts = delete_account(db.session, user)
    except NotFound:
        raise click.ClickException("The account was deleted meanwhile.") from None
    db.session.commit()
    click.echo("Account deleted.")
    click.echo(f"Rows deleted: {_table(counts['deleted'])}")
    click.echo(f"Rows kept, linked to nobody: {_table(counts['kept'])}")
