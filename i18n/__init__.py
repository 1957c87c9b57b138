"""The one i18n entry point: ``_`` for strings, locale negotiation, catalogs and content helpers."""

from datetime import datetime

from babel import Locale
from babel.dates import format_date, format_interval, format_time
from flask import Flask, g, has_request_context, request
from flask_babel import (
    Babel,
    force_locale,
    format_datetime,
    get_locale,
    get_timezone,
    gettext,
    lazy_gettext,
    lazy_pgettext,
)
from flask_babel import ngettext as ngettext

from i18n.locales import DEFAULT_LOCALE, LANGUAGES, LOCALES

#: Translate now (inside a request or ``force_locale``).
_ = gettext
#: Translate when shown: for module-level strings such as form labels and error titles.
_l = lazy_gettext
#: ``_l`` with a context, for one English word that other languages say in several ways
#: (a cancelled workshop and a cancelled registration differ in gender in French or Spanish).
_lp = lazy_pgettext

babel = Babel()

__all__ = [
    "DEFAULT_LOCALE",
    "LANGUAGES",
    "LOCALES",
    "_",
    "_l",
    "_lp",
    "babel",
    "current_locale",
    "force_locale",
    "format_datetime",
    "init_app",
    "ngettext",
    "select_locale",
]


def select_locale() -> str:
    """User setting → Accept-Language → city default → English."""
    user = g.get("user")
    if user is not None and user.locale in LOCALES:
        return user.locale
    if has_request_context():
        best = request.accept_languages.best_match(LOCALES)
        if best:
            return best
    city = g.get("city") or (user.city if user is not None else None)
    if city is not None and city.default_locale in LOCALES:
        return city.default_locale
    return DEFAULT_LOCALE


def select_timezone() -> str:
    """Times are shown in the city's time zone when a page is about one city."""
    city = g.get("city")
    return city.timezone if city is not None else "UTC"


def language_name(code: str) -> str:
    """A language's name in the reader's language, for use inside sentences ("anglais")."""
    return Locale.parse(code).get_display_name(current_locale()) or code


def current_locale() -> str:
    return str(get_locale() or DEFAULT_LOCALE)


def format_span(start: datetime, end: datetime) -> str:
    """A time span in the current language and zone, without seconds, the day written once
    when it is one day ("26 déc. 2026, 18:00 to 20:00", with the language's own dash)."""
    locale = get_locale() or Locale.parse(DEFAULT_LOCALE)
    zone = get_timezone()
    start, end = start.astimezone(zone), end.astimezone(zone)
    glue = str(locale.datetime_formats["medium"])  # e.g. "{1}, {0}": date, then time

    def moment(day: str, clock: str) -> str:
        return glue.replace("{1}", day).replace("{0}", clock)

    if start.date() == end.date():
        hours = "hm" if "h" in locale.time_formats["short"].pattern else "Hm"
        clock = format_interval(start, end, hours, tzinfo=zone, locale=locale)
        return moment(format_date(start, "medium", locale=locale), clock)
    return " \N{EN DASH} ".join(
        moment(format_date(m, "medium", locale=locale), format_time(m, "short", locale=locale))
        for m in (start, end)
    )


def _content_language(response):
    response.headers.setdefault("Content-Language", current_locale())
    response.vary.add("Accept-Language")
    return response


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.after_request(_content_language)
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES,
        current_locale=current_locale,
        format_datetime=format_datetime,
        format_span=format_span,
        language_name=language_name,
    )
