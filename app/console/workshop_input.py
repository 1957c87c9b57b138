"""What the workshop form of the console sends and shows: settings, texts, questions, times.

Texts and question labels are typed per language of the city (``<name>-<locale>`` inputs).
Registration questions are rows of a code, a label per language, whether an answer is
required, and per language a box of choices, one per line as ``code = label`` (a question
without choices takes a written answer); a few empty rows let moderators add questions
without script. Times are typed in the city's time zone (``<input type="datetime-local">``)
and handed on as wall-clock times, which ``workshops.service`` reads on the city's clock.
Numbers that cannot be read stop at the form; their ranges, like every other rule, are the
service's.
"""

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Field, IntegerField, SelectField, StringField
from wtforms.validators import Optional

from app.console.campaign_input import to_local_text
from app.console.forms import strip
from app.console.survey_input import texts_from
from app.console.update_input import parse_local
from app.console.workshop_labels import TEXT_LABELS
from app.models import City
from i18n import _, _l
from workshops.models import Workshop

#: Empty question rows offered below the filled ones.
SPARE_QUESTION_ROWS = 2
#: Question rows read from one submission (the service allows 20); the rest is ignored.
MAX_QUESTION_ROWS = 30
#: Lines of choices read per language of one question.
MAX_CHOICE_LINES = 60
TIMES = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at")
#: What the form of a new workshop starts with.
NEW_WORKSHOP = {"capacity": 20, "reminder_hours": "24, 2"}
_HOURS_SEPARATORS = re.compile(r"[\s,;]+")


def _moment(label, description=None) -> StringField:
    return StringField(
        label, filters=[strip], render_kw={"type": "datetime-local"}, description=description
    )


class WorkshopForm(FlaskForm):
    """A workshop's untranslated settings."""

    starts_at = _moment(_l("Starts"))
    ends_at = _moment(_l("Ends"))
    registration_opens_at = _moment(
        _l("Registration opens"), _l("Leave empty to open registration when it is published.")
    )
    registration_closes_at = _moment(
        _l("Registration closes"), _l("Leave empty to take registrations until it starts.")
    )
    capacity = IntegerField(
        _l("Seats"),
        validators=[Optional()],
        description=_l("Once the seats are taken, residents join the waitlist."),
    )
    address = StringField(_l("Address"), filters=[strip])
    latitude = StringField(_l("Latitude"), filters=[strip], description=_l("e.g. 45.7640"))
    longitude = StringField(_l("Longitude"), filters=[strip], description=_l("e.g. 4.8357"))
    online_url = StringField(
        _l("Online link"),
        filters=[strip],
        render_kw={"type": "url"},
        description=_l("An https:// address. Only confirmed participants see it."),
    )
    reminder_hours = StringField(
        _l("Reminders (hours before the start)"),
        filters=[strip],
        description=_l("Whole hours separated by commas, e.g. 24, 2. Leave empty for none."),
    )

    def time_fields(self) -> list[Field]:
        return [getattr(self, name) for name in TIMES]

    def _fail(self, field_: Field, message: str) -> None:
        field_.errors = [*field_.errors, message]

    def _times(self) -> dict[str, datetime | None]:
        """The times as typed: wall-clock times in the city's zone, None when empty."""
        times: dict[str, datetime | None] = {}
        for name in TIMES:
            field_ = getattr(self, name)
            if not field_.data:
                times[name] = None
                continue
            moment = parse_local(field_.data)
            if moment is None:
                self._fail(field_, _("Enter a valid date and time."))
            else:
                times[name] = moment
        for name, message in (
            ("starts_at", _("Enter when the workshop starts.")),
            ("ends_at", _("Enter when the workshop ends.")),
        ):
            if not getattr(self, name).data:
                self._fail(getattr(self, name), message)
        return times

    def _coordinate(self, field_: Field) -> float | None:
        if not field_.data:
            return None
        try:
            value = float(field_.data.replace(",", "."))
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self._fail(field_, _("Enter a number such as 45.7640."))
            return None
        return value

    def _hours(self) -> list[int]:
        parts = [p for p in _HOURS_SEPARATORS.split(self.reminder_hours.data or "") if p]
        if not all(p.isdigit() and len(p) <= 6 for p in parts):
            self._fail(self.reminder_hours, _("Write whole hours separated by commas, e.g. 24, 2."))
            return []
        return [int(p) for p in parts]

    def settings(self) -> dict:
        """The values for ``create_workshop``/``update_workshop``; a value that cannot be read
        gets an error on its field (check ``self.errors`` before saving)."""
        values: dict = self._times()
        if self.capacity.data is None and not self.capacity.errors:
            self._fail(self.capacity, _("Enter how many seats the workshop has."))
        values["capacity"] = self.capacity.data
        values["address"] = self.address.data or None
        values["latitude"] = self._coordinate(self.latitude)
        values["longitude"] = self._coordinate(self.longitude)
        values["online_url"] = self.online_url.data or None
        values["reminder_hours"] = self._hours()
        return values


class NewWorkshopForm(WorkshopForm):
    campaign = SelectField(
        _l("Campaign"),
        validate_choice=False,  # the view looks the campaign up in the city
        description=_l("The workshop belongs to this campaign; residents find it there."),
    )


def form_values(workshop: Workshop) -> dict:
    """A saved workshop as the form's initial values (times on the city's clock)."""
    zone = ZoneInfo(workshop.city.timezone)
    values: dict = {
        name: to_local_text(moment, zone) if (moment := getattr(workshop, name)) else ""
        for name in TIMES
    }
    values |= {
        "capacity": workshop.capacity,
        "address": workshop.address or "",
        "latitude": "" if workshop.latitude is None else f"{workshop.latitude:g}",
        "longitude": "" if workshop.longitude is None else f"{workshop.longitude:g}",
        "online_url": workshop.online_url or "",
        "reminder_hours": ", ".join(str(h) for h in workshop.reminder_hours or []),
    }
    return values


# --- texts and questions --------------------------------------------------------------------


@dataclass
class QuestionRow:
    """One row of the questions table as typed (or as saved), with what is wrong with it."""

    code: str = ""
    label: dict[str, str] = field(default_factory=dict)
    required: bool = False
    #: Per language, the choices as the box shows them ("code = label" lines).
    choices: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def is_blank(self) -> bool:
        return not (self.code or self.label or any(t.strip() for t in self.choices.values()))

    @classmethod
    def of(cls, question: dict, locales: list[str]) -> "QuestionRow":
        choices = question.get("choices") or []
        boxes = {
            loc: "\n".join(
                f"{c['code']} = {c['label'][loc]}" for c in choices if c["label"].get(loc)
            )
            for loc in locales
        }
        return cls(
            code=question.get("code", ""),
            label=dict(question.get("label") or {}),
            required=bool(question.get("required")),
            choices=boxes,
        )

    def parsed_choices(self, locales: list[str]) -> list[dict]:
        """The choices of every language's box merged by code, in the order first written."""
        merged: dict[str, dict[str, str]] = {}
        for loc in locales:
            lines = [line.strip() for line in self.choices.get(loc, "").splitlines()]
            for line in [line for line in lines if line][:MAX_CHOICE_LINES]:
                code, equals, label = line.partition("=")
                if not equals or not code.strip():
                    message = _(
                        "Write each choice on a line of its own as code = label, "
                        "e.g. vegan = Vegan."
                    )
                    if message not in self.errors:
                        self.errors.append(message)
                    continue
                labels = merged.setdefault(code.strip(), {})
                if label.strip():
                    labels[loc] = label.strip()
        return [{"code": code, "label": label} for code, label in merged.items()]

    def question(self, locales: list[str]) -> dict:
        """The question for the service (no "choices" when it takes a written answer)."""
        made: dict = {"code": self.code, "label": dict(self.label), "required": self.required}
        choices = self.parsed_choices(locales)
        if choices:
            made["choices"] = choices
        return made


@dataclass
class WorkshopTexts:
    """The translated texts and the registration questions of a workshop form."""

    locales: list[str]
    texts: dict[str, dict[str, str]]
    questions: list[QuestionRow]

    @classmethod
    def blank(cls, city: City) -> "WorkshopTexts":
        return cls(list(city.enabled_locales), {name: {} for name in TEXT_LABELS}, [])

    @classmethod
    def of(cls, workshop: Workshop) -> "WorkshopTexts":
        locales = list(workshop.city.enabled_locales)
        texts = {name: dict(getattr(workshop, name) or {}) for name in TEXT_LABELS}
        questions = [QuestionRow.of(q, locales) for q in workshop.questions or []]
        return cls(locales, texts, questions)

    @classmethod
    def from_form(cls, city: City, form: MultiDict) -> "WorkshopTexts":
        locales = list(city.enabled_locales)
        texts = {name: texts_from(form, name, locales) for name in TEXT_LABELS}
        questions = []
        for i in range(MAX_QUESTION_ROWS):
            prefix = f"question-{i}-"
            row = QuestionRow(
                code=(form.get(f"{prefix}code") or "").strip(),
                label=texts_from(form, f"{prefix}label", locales),
                required=form.get(f"{prefix}required") == "1",
                choices={
                    loc: (form.get(f"{prefix}choices-{loc}") or "").replace("\r\n", "\n")
                    for loc in locales
                },
            )
            if not row.is_blank:
                questions.append(row)
        return cls(locales, texts, questions)

    def rows(self) -> list[QuestionRow]:
        """The questions, then empty rows to add more."""
        return self.questions + [QuestionRow() for _ in range(SPARE_QUESTION_ROWS)]

    def service_values(self) -> dict:
        """The texts and questions for the service; parsing may add errors to the rows."""
        questions = [row.question(self.locales) for row in self.questions]
        return {**self.texts, "questions": questions}

    @property
    def has_errors(self) -> bool:
        return any(row.errors for row in self.questions)
