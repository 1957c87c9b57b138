"""What the update pages of the console send and show: forms, texts per language, times.

Times are typed in the city's time zone (``<input type="datetime-local">``) and handed to
``updates.publishing.from_city_time``, which refuses a time the clocks skip and reads a time
that happens twice as its first occurrence; the pages show the UTC offset used.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import SelectField, StringField, URLField
from wtforms.validators import DataRequired, Length, Optional

from app.console.campaign_input import LOCAL_FORMATS
from app.console.forms import strip
from app.console.translations import languages_missing, missing_by_field
from app.models import City
from i18n import _l
from updates.models import Update, UpdateStatus
from updates.service import TRANSLATED_FIELDS

STATUS_NAMES = {
    UpdateStatus.DRAFT: _l("Draft"),
    UpdateStatus.SCHEDULED: _l("Scheduled"),
    UpdateStatus.PUBLISHED: _l("Published"),
}
#: Fields of an update that are written in every language of its city.
TEXT_LABELS = {
    "title": _l("Title"),
    "body": _l("Text"),
    "image_alt": _l("Image description (alternative text)"),
}
#: The audience choice meaning "everyone in the city".
WHOLE_CITY = ""


class UpdateForm(FlaskForm):
    """An update's untranslated fields; its texts are read per language by ``Texts``."""

    audience = SelectField(
        _l("Who is it for?"),
        validate_choice=False,  # the service decides which campaigns may take updates
        description=_l(
            "Everyone in the city, or the followers of one campaign. "
            "It cannot change once people were told."
        ),
    )
    image_url = URLField(
        _l("Image address"),
        validators=[
            Optional(),
            Length(max=500, message=_l("A web address has at most 500 characters.")),
        ],
        filters=[strip],
        description=_l("An https:// address of a picture shown with the update in the app."),
    )


class ScheduleForm(FlaskForm):
    publish_at = StringField(
        _l("Publish on"),
        validators=[DataRequired(message=_l("Enter when to publish the update."))],
        filters=[strip],
        render_kw={"type": "datetime-local"},
    )


@dataclass
class Texts:
    """The translated texts of an update form, as typed or as saved."""

    locales: list[str]
    values: dict[str, dict[str, str]]

    @classmethod
    def blank(cls, city: City) -> "Texts":
        return cls(list(city.enabled_locales), {f: {} for f in TRANSLATED_FIELDS})

    @classmethod
    def of(cls, update: Update) -> "Texts":
        values = {f: dict(getattr(update, f) or {}) for f in TRANSLATED_FIELDS}
        return cls(list(update.city.enabled_locales), values)

    @classmethod
    def from_form(cls, city: City, form: MultiDict) -> "Texts":
        locales = list(city.enabled_locales)
        values = {
            # Browsers send CR LF for line breaks; a line break counts as one character.
            name: {loc: (form.get(f"{name}-{loc}") or "").replace("\r\n", "\n") for loc in locales}
            for name in TRANSLATED_FIELDS
        }
        return cls(locales, values)


def campaign_id(value: str | None) -> int | None:
    """The campaign chosen as audience; what is not an id goes on as an id that cannot exist."""
    value = (value or "").strip()
    if value == WHOLE_CITY:
        return None
    return int(value) if value.isdigit() and len(value) <= 10 else 0


def parse_local(text: str) -> datetime | None:
    """The naive wall-clock time a datetime-local input sent, or None when it is not one."""
    for fmt in LOCAL_FORMATS:
        try:
            return datetime.strptime(text, fmt)  # in the city's zone, attached by the service
        except ValueError:
            continue
    return None


def utc_offset(instant: datetime, zone: ZoneInfo) -> str:
    """The offset a moment has in a zone, as "UTC+02:00"."""
    return "UTC" + instant.astimezone(zone).isoformat()[-6:]


def missing_translations(update: Update) -> dict[str, list[str]]:
    """Per field, the city's languages still lacking a text (the title always counts, the
    image description whenever there is an image)."""
    required = {"title", "image_alt"} if update.image_url else {"title"}
    return missing_by_field(update, TRANSLATED_FIELDS, update.city.enabled_locales, required)


def missing_anywhere(update: Update) -> list[str]:
    """The city's languages any text of the update is still missing in."""
    return languages_missing(missing_translations(update), update.city.enabled_locales)
