"""Marshmallow fields that show translated content in the reader's language."""

from flask import g
from marshmallow import fields

from i18n import current_locale
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
