"""Translated content: a field's value is a mapping of locale → text, with a fallback chain."""

from collections.abc import Iterable, Mapping

from i18n import _
from i18n.locales import DEFAULT_LOCALE

Translations = dict[str, str]


def fallback_chain(requested: str | None, city_default: str | None) -> list[str]:
    """Locales to try in order: requested → city default → English."""
    chain: list[str] = []
    for locale in (requested, city_default, DEFAULT_LOCALE):
        if locale and locale not in chain:
            chain.append(locale)
    return chain


def pick(
    value: Mapping[str, str] | None, requested: str | None, city_default: str | None = None
) -> tuple[str, str | None]:
    """The best text of a translated value and the locale it is in; any language as last resort."""
    if not value:
        return "", None
    for locale in fallback_chain(requested, city_default):
        text = value.get(locale)
        if text:
            return text, locale
    for locale, text in sorted(value.items()):
        if text:
            return text, locale
    return "", None


def missing_locales(value: Mapping[str, str] | None, enabled: Iterable[str]) -> list[str]:
    """The enabled locales a translated value has no text for (shown to staff)."""
    value = value or {}
    return [locale for locale in enabled if not (value.get(locale) or "").strip()]


def cleaned(value: Mapping[str, str] | None) -> Translations:
    """Drop empty translations and surrounding white space."""
    return {k: v.strip() for k, v in (value or {}).items() if v and v.strip()}


def translation_problems(
    texts: Mapping[str, str], enabled: Iterable[str], max_length: int
) -> list[str]:
    """What is wrong with a cleaned translated value for a city: a language it does not use,
    or a text over ``max_length``; empty when nothing is."""
    unknown = sorted(set(texts) - set(enabled))
    if unknown:
        return [_("Not a language of this city: %(locales)s", locales=", ".join(unknown))]
    if any(len(text) > max_length for text in texts.values()):
        return [_("Longer than the maximum length of %(max)d.", max=max_length)]
    return []


def check_translated(
    values: Mapping[str, object],
    limits: Mapping[str, int],
    enabled: Iterable[str],
    default_locale: str,
    errors: dict,
) -> dict[str, Translations]:
    """The translated fields of ``limits`` found in ``values``, cleaned; problems go to
    ``errors`` by field. A title, when given, needs a text in the city's main language."""
    enabled = list(enabled)
    texts: dict[str, Translations] = {}
    for field, limit in limits.items():
        if field not in values:
            continue
        value = values[field] if values[field] is not None else {}
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str | None) for k, v in value.items()
        ):
            errors[field] = [_("Give a text per language.")]
            continue
        texts[field] = cleaned(value)
        problems = translation_problems(texts[field], enabled, limit)
        if problems:
            errors[field] = problems
    if "title" in texts and "title" not in errors and not texts["title"].get(default_locale):
        errors["title"] = [_("A title in the city's main language is required.")]
    return texts
