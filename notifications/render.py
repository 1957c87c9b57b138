"""Rendering a notification in one person's language and time zone, from the kind's templates."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from flask import current_app

from i18n import force_locale
from i18n.content import pick


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def helpers(locale: str, timezone: str, city_locale: str | None = None) -> dict:
    """Template functions that format for the reader: their language, their clock."""
    zone = ZoneInfo(timezone)

    def when(moment: datetime, format: str = "medium") -> str:
        return format_datetime(moment, format, tzinfo=zone, locale=locale)

    def day(moment: datetime, format: str = "long") -> str:
        return format_date(moment.astimezone(zone).date(), format, locale=locale)

    def number(value: float) -> str:
        return format_decimal(value, locale=locale)

    def translated(value: dict | None) -> str:
        return pick(value, locale, city_locale)[0]

    return {"when": when, "day": day, "number": number, "translated": translated}


def render_template_in(name: str, locale: str, timezone: str, /, **context) -> str:
    """One template rendered in ``locale``; HTML templates escape, text templates do not."""
    template = current_app.jinja_env.get_template(name)
    with force_locale(locale):
        return template.render(**helpers(locale, timezone, context.get("city_locale")), **context)


def render(kind: str, locale: str, timezone: str, context: dict) -> Rendered:
    base = f"notifications/{kind}"
    subject = render_template_in(f"{base}.subject.txt", locale, timezone, **context)
    return Rendered(
        # A subject is one line: template newlines must not become header folding.
        subject=" ".join(line.strip() for line in subject.strip().splitlines())[:300],
        text=render_template_in(f"{base}.txt", locale, timezone, **context).strip() + "\n",
        html=render_template_in(f"{base}.html", locale, timezone, **context).strip(),
    )
