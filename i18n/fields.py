"""Marshmallow fields for translated content."""

from flask import g
from marshmallow import ValidationError, fields

from i18n import LOCALES, _l, current_locale
from i18n.content import pick


def _city_default(obj) -> str | None:
    city = getattr(obj, "city", None) or g.get("city")
    return city.default_locale if city is not None else None


class Translated(fields.Field):
    """Output: the text in the reader's language, falling back to the city's, then any."""

    def _serialize(self, value, attr, obj, **kwargs):
        text, _locale = pick(value, current_locale(), _city_default(obj))
        return text


class ContentLanguage(fields.Field):
    """Output: the language a translated attribute was actually shown in."""

    def __init__(self, source: str, **kwargs):
        super().__init__(dump_only=True, **kwargs)
        self.source = source

    def serialize(self, attr, obj, accessor=None, **kwargs):
        _text, locale = pick(getattr(obj, self.source), current_locale(), _city_default(obj))
        return locale


class Translations(fields.Dict):
    """Input: locale → text, for the programme's locales only."""

    def __init__(self, max_length: int = 20_000, **kwargs):
        super().__init__(keys=fields.String(), values=fields.String(), **kwargs)
        self.max_length = max_length

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        unknown = sorted(set(result) - set(LOCALES))
        if unknown:
            raise ValidationError(
                str(_l("Unknown language: %(locales)s", locales=", ".join(unknown)))
            )
        if any(len(text) > self.max_length for text in result.values()):
            raise ValidationError(
                str(_l("Longer than the maximum length of %(max)d.", max=self.max_length))
            )
        return result
