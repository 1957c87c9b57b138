"""What the board form of the console sends and shows: settings, texts, categories, times.

Texts and category labels are typed per language of the city (``<name>-<locale>`` inputs);
categories are rows of a code and its labels, with a few empty rows to add more without
script. Phase times are typed in the city's time zone (``<input type="datetime-local">``) and
handed on as wall-clock times, which ``ideas.boards`` reads on the city's clock (refusing a
time the clocks skip). Numbers that cannot be read stop at the form; their ranges, like every
other rule, are the service's.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Field, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from app.console.campaign_input import to_local_text
from app.console.forms import strip
from app.console.idea_labels import LOCATION_NAMES, PHASE_NAMES
from app.console.survey_input import texts_from
from app.console.update_input import parse_local
from app.models import City
from i18n import _, _l
from ideas.board_settings import MAX_CATEGORIES, MAX_LENGTH, TIMES
from ideas.boards import PHASES, VOTING_RULES
from ideas.models import Board

#: Empty category rows offered below the filled ones.
SPARE_CATEGORY_ROWS = 3
#: Settings the form edits with a WTForms field (texts and categories are read apart).
NUMBERS = ("support_budget", "flag_threshold", "edit_minutes")
CHECKS = ("requires_approval", "supports_withdrawable")


def _number(label, description) -> IntegerField:
    # Only whether it is a whole number is checked here; its range is the service's.
    return IntegerField(label, validators=[Optional()], description=description)


def _moment(label) -> StringField:
    return StringField(label, filters=[strip], render_kw={"type": "datetime-local"})


class BoardForm(FlaskForm):
    """A board's untranslated settings."""

    location = SelectField(
        _l("Location of an idea"),
        choices=[SelectChoice(mode.value, name) for mode, name in LOCATION_NAMES.items()],
        validate_choice=False,  # the service names the choices in its message
        description=_l("Whether residents place their idea on the map."),
    )
    requires_approval = BooleanField(
        _l("New ideas wait for a moderator's approval before residents see them")
    )
    support_budget = _number(
        _l("Supports per resident"),
        _l("How many ideas each resident may support on this board. Leave empty for no limit."),
    )
    supports_withdrawable = BooleanField(
        _l("Residents may take a support back while supporting is open")
    )
    flag_threshold = _number(
        _l("Flags that hide an idea or comment"),
        _l("After this many residents flag it, it is hidden until a moderator reviews it."),
    )
    edit_minutes = _number(
        _l("Edit window (minutes)"),
        _l(
            "Authors may change an idea or comment this long after posting it "
            "(ideas only until someone supports them)."
        ),
    )
    collecting_from = _moment(_l("Collecting ideas starts"))
    supporting_from = _moment(_l("Supporting starts"))
    closes_at = _moment(_l("The board closes"))

    def time_fields(self) -> list[Field]:
        return [getattr(self, name) for name in TIMES]

    def read_times(self) -> dict[str, datetime | None]:
        """The phase times as typed (wall-clock times in the city's zone; None when empty).

        A text that is no date and time gets an error on its field and is left out.
        """
        times: dict[str, datetime | None] = {}
        for field in self.time_fields():
            if not field.data:
                times[field.name] = None
                continue
            moment = parse_local(field.data)
            if moment is None:
                field.errors = [*field.errors, _("Enter a valid date and time.")]
            else:
                times[field.name] = moment
        return times

    def settings(self, voting_frozen: bool) -> dict:
        """The settings for ``create_board``/``update_board``; the voting rules are left out
        once supporting started, since they can no longer change."""
        values: dict = {"location": self.location.data}
        values |= {name: getattr(self, name).data for name in (*NUMBERS, *CHECKS)}
        if voting_frozen:
            for name in VOTING_RULES:
                values.pop(name)
        return values | self.read_times()


class NewBoardForm(BoardForm):
    campaign = SelectField(
        _l("Campaign"),
        validate_choice=False,  # the view looks the campaign up in the city
        description=_l("The board belongs to this campaign; residents find it there."),
    )


class PhaseForm(FlaskForm):
    phase = SelectField(
        _l("Phase"),
        choices=[SelectChoice(phase.value, PHASE_NAMES[phase]) for phase in PHASES],
        validate_choice=False,
    )


def board_form_values(board: Board) -> dict:
    """A saved board as the form's initial values (times on the city's clock)."""
    zone = ZoneInfo(board.city.timezone)
    values = {name: getattr(board, name) for name in ("location", *NUMBERS, *CHECKS)}
    for name in TIMES:
        moment = getattr(board, name)
        values[name] = to_local_text(moment, zone) if moment is not None else ""
    return values


@dataclass
class BoardTexts:
    """The translated texts and the categories of a board form, as typed or as saved."""

    locales: list[str]
    texts: dict[str, dict[str, str]]
    categories: list[dict]

    @classmethod
    def blank(cls, city: City) -> "BoardTexts":
        return cls(list(city.enabled_locales), {name: {} for name in MAX_LENGTH}, [])

    @classmethod
    def of(cls, board: Board) -> "BoardTexts":
        texts = {name: dict(getattr(board, name) or {}) for name in MAX_LENGTH}
        categories = [
            {"code": c["code"], "label": dict(c["label"])} for c in board.categories or []
        ]
        return cls(list(board.city.enabled_locales), texts, categories)

    @classmethod
    def from_form(cls, city: City, form: MultiDict) -> "BoardTexts":
        locales = list(city.enabled_locales)
        texts = {name: texts_from(form, name, locales) for name in MAX_LENGTH}
        categories = []
        for i in range(MAX_CATEGORIES + SPARE_CATEGORY_ROWS):
            code = (form.get(f"category-{i}-code") or "").strip()
            label = texts_from(form, f"category-{i}-label", locales)
            if code or label:
                categories.append({"code": code, "label": label})
        return cls(locales, texts, categories)

    def rows(self) -> list[dict]:
        """The categories, then empty rows to add more."""
        spare = [{"code": "", "label": {}} for _ in range(SPARE_CATEGORY_ROWS)]
        return self.categories + spare

    def service_values(self) -> dict:
        return {**self.texts, "categories": self.categories}
