"""Translated names of roles and campaign states, as the console shows them."""

from app.models import Role
from campaigns.models import CampaignStatus
from i18n import _l

ROLE_NAMES = {
    Role.MODERATOR: _l("Moderator"),
    Role.STAFF: _l("City staff"),
    Role.RESEARCHER: _l("Researcher"),
    Role.ADMIN: _l("City administrator"),
}

STATUS_NAMES = {
    CampaignStatus.DRAFT: _l("Draft"),
    CampaignStatus.PUBLISHED: _l("Published"),
    CampaignStatus.ARCHIVED: _l("Archived"),
}

#: Fields of a campaign that are written in every language of its city.
CAMPAIGN_TEXT_LABELS = {
    "title": _l("Title"),
    "summary": _l("Summary"),
    "description": _l("Description"),
    "cover_alt": _l("Cover image description (alternative text)"),
}
