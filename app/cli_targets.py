"""What a domain's operator command acts on, and as whom: found, or a clear error."""

import click

from app.accounts import find_user_by_email
from app.extensions import db
from app.models import User
from campaigns.models import Campaign


def campaign_and_actor(campaign_id: int, email: str) -> tuple[Campaign, User]:
    """The campaign with this id and the account with this e-mail, else ClickException."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(f"There is no campaign {campaign_id}.")
    actor = find_user_by_email(db.session, email)
    if actor is None:
        raise click.ClickException(f"There is no account {email}.")
    return campaign, actor
