"""Translated texts on console pages: how a reader gets one, and which languages lack one."""

from collections.abc import Iterable
from dataclasses import dataclass

from app.models import City
from i18n.content import cleaned, missing_locales, pick


@dataclass
class Shown:
    """A translated text as a reader in one language gets it, and the language it is in."""

    text: str
    locale: str | None

    @classmethod
    def of(cls, value: dict | None, locale: str, city: City) -> "Shown":
        return cls(*pick(value, locale, city.default_locale))


def missing_by_field(
    item: object, fields: Iterable[str], enabled: list[str], required: Iterable[str] = ()
) -> dict[str, list[str]]:
    """Per field, the city's languages still lacking a text: for ``required`` fields always,
    for the others once the text is written in some language."""
    required = set(required)
    missing = {}
    for field in fields:
        value = getattr(item, field)
        gaps = missing_locales(value, enabled) if field in required or cleaned(value) else []
        if gaps:
            missing[field] = gaps
    return missing


def languages_missing(missing: dict[str, list[str]], enabled: list[str]) -> list[str]:
    """The languages any field of ``missing`` lacks, in the city's order."""
    gaps = {loc for locales in missing.values() for loc in locales}
    return [loc for loc in enabled if loc in gaps]
