"""Console forms (Flask-WTF: every form carries a CSRF token)."""

import re
from collections.abc import Iterable
from functools import cache
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    Field,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NoneOf, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.console.labels import ROLE_NAMES
from app.errors import Invalid
from campaigns.service import RESERVED_SLUGS
from i18n import LANGUAGES, _l

#: Lower-case letters and digits in words joined by single hyphens, as in web addresses.
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_MESSAGE = _l("Use lower-case letters, digits and single hyphens.")
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _language_choices() -> list[SelectChoice]:
    return [SelectChoice(code, name, {"lang": code}) for code, name in LANGUAGES.items()]


def strip(value):
    return value.strip() if isinstance(value, str) else value


def _email_address(_form, field) -> None:
    """Something shaped like an address; whether the account exists is the service's question."""
    if field.data and not _EMAIL_SHAPE.match(field.data):
        raise ValidationError(_l("Enter an email address such as name@example.org."))


def _email_field(label) -> EmailField:
    return EmailField(
        label,
        validators=[
            DataRequired(message=_l("Enter an email address.")),
            Length(max=254, message=_l("An email address has at most 254 characters.")),
            _email_address,
        ],
        filters=[strip],
    )


class LoginForm(FlaskForm):
    email = _email_field(_l("Email address"))
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=512)])


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=512)]
    )
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=512)])


class LanguageForm(FlaskForm):
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice("", _l("As my browser says")), *_language_choices()],
        validators=[],
    )


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change state."""


# --- campaigns ------------------------------------------------------------------------------


class CampaignForm(FlaskForm):
    """A campaign's untranslated fields; its texts and phases are read by CampaignInput."""

    cover_image_url = URLField(
        _l("Cover image address"),
        validators=[
            Optional(),
            Length(max=500, message=_l("A web address has at most 500 characters.")),
        ],
        filters=[strip],
        description=_l("An https:// address of a picture shown above the campaign in the app."),
    )


class NewCampaignForm(CampaignForm):
    slug = StringField(
        _l("Web address"),
        validators=[
            NoneOf(
                sorted(RESERVED_SLUGS),
                message=_l("This address is used by the console itself. Choose another one."),
            )
        ],
        filters=[strip],
        description=_l(
            "Part of the campaign's link, e.g. renovating-block-7. It cannot be changed later."
        ),
    )


# --- cities ---------------------------------------------------------------------------------


@cache
def timezone_choices() -> tuple[SelectChoice, ...]:
    """IANA time zones grouped by region (for option groups), UTC last."""
    names = sorted(
        name for name in available_timezones() if "/" in name and not name.startswith("Etc/")
    )
    grouped = tuple(
        SelectChoice(name, name.split("/", 1)[1].replace("_", " "), optgroup=name.split("/")[0])
        for name in names
    )
    return (*grouped, SelectChoice("UTC", "UTC", optgroup="UTC"))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CityForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Enter the city's name.")),
            Length(max=200, message=_l("A name has at most 200 characters.")),
        ],
        filters=[strip],
    )
    # The service checks the choices, with its own messages.
    timezone = SelectField(_l("Time zone"), validate_choice=False)
    default_locale = SelectField(_l("Main language"), validate_choice=False)
    enabled_locales = MultiCheckboxField(
        _l("Languages of the city's content"), validate_choice=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = list(timezone_choices())
        self.default_locale.choices = _language_choices()
        self.enabled_locales.choices = _language_choices()


class NewCityForm(CityForm):
    slug = StringField(
        _l("Web address"),
        validators=[
            DataRequired(message=_l("Enter a web address for the city.")),
            Length(max=64, message=_l("A web address has at most 64 characters.")),
            Regexp(SLUG_PATTERN, message=SLUG_MESSAGE),
        ],
        filters=[strip],
        description=_l("Used in links and by the app, e.g. lyon. It cannot be changed later."),
    )


# --- people and roles -----------------------------------------------------------------------


class GrantRoleForm(FlaskForm):
    email = _email_field(_l("Email address of the person"))
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(role.value, name) for role, name in ROLE_NAMES.items()],
        validate_choice=True,
        invalid_choice_message=_l("Choose one of the roles."),
    )


class FindAccountForm(FlaskForm):
    email = _email_field(_l("Email address"))


def sort_errors(error: Invalid, fields: dict[str, Field], shown: Iterable[str]) -> dict:
    """Place a service's errors: next to their form field, else beside a text the page shows
    (``shown``), else on top under "general"; the page renders the returned dict."""
    shown = set(shown)
    errors: dict[str, list[str]] = {}
    for name, messages in (error.errors or {}).items():
        if name in fields:
            fields[name].errors = [*fields[name].errors, *messages]
        elif name in shown:
            errors[name] = list(messages)
        else:
            errors.setdefault("general", []).extend(messages)
    if error.detail and not error.errors:
        errors.setdefault("general", []).append(error.detail)
    return errors
