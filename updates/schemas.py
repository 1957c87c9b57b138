"""Updates as residents' phones receive them."""

from marshmallow import Schema, fields

from app.richtext import excerpt
from i18n import current_locale
from i18n.content import pick
from i18n.fields import ContentLanguage, Translated

#: Length of the plain-text excerpt in lists.
EXCERPT_LENGTH = 200


class CampaignRefOut(Schema):
    """The campaign an update belongs to, enough to open it."""

    slug = fields.String(required=True)
    title = Translated(required=True)


class UpdateOut(Schema):
    id = fields.Integer(required=True)
    title = Translated(required=True)
    body = Translated(
        required=True,
        metadata={"description": "Sanitised HTML: p, br, strong, em, lists, h2 to h4, links."},
    )
    excerpt = fields.Method(
        "_excerpt",
        required=True,
        metadata={"description": "The start of the body as plain text, for lists."},
    )
    image_url = fields.String(allow_none=True, required=True)
    image_alt = Translated(required=True)
    campaign = fields.Nested(
        CampaignRefOut,
        allow_none=True,
        required=True,
        metadata={"description": "null for news to the whole city."},
    )
    published_at = fields.AwareDateTime(required=True)
    language = ContentLanguage(
        "title", metadata={"description": "Language the texts are shown in."}
    )

    def _excerpt(self, update) -> str:
        body, _locale = pick(update.body, current_locale(), update.city.default_locale)
        return excerpt(body, EXCERPT_LENGTH)
