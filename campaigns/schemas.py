"""Campaign data as residents' phones receive it."""

from marshmallow import Schema, fields

from i18n.fields import ContentLanguage, Translated


class PhaseOut(Schema):
    title = Translated(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)


class CampaignOut(Schema):
    slug = fields.String(required=True)
    title = Translated(required=True)
    summary = Translated(required=True)
    language = ContentLanguage(
        "title", metadata={"description": "Language the texts are shown in."}
    )
    cover_image_url = fields.String(allow_none=True, required=True)
    cover_alt = Translated(required=True)
    published_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    current_phase = fields.Nested(PhaseOut, allow_none=True, required=True)
    phases = fields.List(fields.Nested(PhaseOut), required=True)


class CampaignDetailOut(CampaignOut):
    description = Translated(required=True)
