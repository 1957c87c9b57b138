"""What a campaign form sends: texts in each of the city's languages and a list of phases.

Phases are typed as local date-times in the city's time zone and handed to the service as
aware UTC datetimes; a time the clocks skip is refused rather than silently moved.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from app.console.scoping import actor
from app.console.translations import Shown
from app.extensions import db
from app.models import City
from campaigns.models import Campaign, CampaignStatus
from campaigns.service import MAX_LENGTH, TRANSLATED_FIELDS, campaigns_for_console
from i18n import _, current_locale

#: Empty phase rows offered below the existing ones, so phases can be added without script.
SPARE_PHASE_ROWS = 2
#: At least this many rows are shown on a new campaign.
MIN_PHASE_ROWS = 3
#: Rows read from one submission; anything beyond is ignored.
MAX_PHASE_ROWS = 30
PHASE_TITLE_MAX = MAX_LENGTH["title"]
#: What ``<input type="datetime-local">`` sends (seconds only when a step asks for them).
LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")
LOCAL_DISPLAY = "%Y-%m-%dT%H:%M"
PHASE_KEY = re.compile(r"^phase-(\d{1,3})-")


class LocalTimeError(ValueError):
    """A local date-time that cannot be turned into an instant; the message is shown."""


def to_utc(text: str, zone: ZoneInfo) -> datetime:
    """An aware UTC datetime for a wall-clock time typed in ``zone``."""
    for fmt in LOCAL_FORMATS:
        try:
            naive = datetime.strptime(text, fmt)  # the city's zone is attached below
            break
        except ValueError:
            continue
    else:
        raise LocalTimeError(_("Enter a valid date and time."))
    local = naive.replace(tzinfo=zone)
    try:
        instant = local.astimezone(UTC)
        round_trip = instant.astimezone(zone).replace(tzinfo=None)
    except (OverflowError, ValueError) as error:
        raise LocalTimeError(_("Enter a valid date and time.")) from error
    if round_trip != naive:
        raise LocalTimeError(
            _(
                "This time does not exist in the time zone %(timezone)s, "
                "because the clocks are put forward then.",
                timezone=zone.key,
            )
        )
    return instant


def to_local_text(instant: datetime, zone: ZoneInfo) -> str:
    """The value of a datetime-local input showing ``instant`` in ``zone``."""
    return instant.astimezone(zone).strftime(LOCAL_DISPLAY)


def _text(value: str | None) -> str:
    # Browsers send CR LF for line breaks; count and store a line break as one character.
    return (value or "").replace("\r\n", "\n")


@dataclass
class PhaseRow:
    """One row of the phases table as typed, with what parsing found wrong with it."""

    title: dict[str, str] = field(default_factory=dict)
    starts_at: str = ""
    ends_at: str = ""
    remove: bool = False
    #: Whether the row shows a phase already saved (it then offers "remove").
    existing: bool = False
    errors: list[str] = field(default_factory=list)
    starts_utc: datetime | None = None
    ends_utc: datetime | None = None

    @property
    def is_blank(self) -> bool:
        return not any(t.strip() for t in self.title.values()) and not (
            self.starts_at.strip() or self.ends_at.strip()
        )

    @property
    def counts(self) -> bool:
        """Whether the row becomes a phase when the form is saved."""
        return not self.remove and not self.is_blank

    def parse(self, zone: ZoneInfo) -> None:
        if not self.counts:
            return
        too_long = any(len(t) > PHASE_TITLE_MAX for t in self.title.values())
        if too_long:
            self.errors.append(_("Longer than the maximum length of %(max)d.", max=PHASE_TITLE_MAX))
        for attr, missing in (
            ("starts_at", _("Enter when the phase starts.")),
            ("ends_at", _("Enter when the phase ends.")),
        ):
            text = getattr(self, attr).strip()
            if not text:
                self.errors.append(missing)
                continue
            try:
                setattr(self, attr.replace("_at", "_utc"), to_utc(text, zone))
            except LocalTimeError as error:
                self.errors.append(str(error))


@dataclass
class CampaignInput:
    """The translated texts and phases of a campaign form, ready to show or to save."""

    locales: list[str]
    texts: dict[str, dict[str, str]]
    phases: list[PhaseRow]

    @classmethod
    def blank(cls, city: City) -> "CampaignInput":
        return cls(list(city.enabled_locales), {f: {} for f in TRANSLATED_FIELDS}, [])

    @classmethod
    def from_campaign(cls, campaign: Campaign) -> "CampaignInput":
        zone = ZoneInfo(campaign.city.timezone)
        phases = [
            PhaseRow(
                title=dict(phase.title),
                starts_at=to_local_text(phase.starts_at, zone),
                ends_at=to_local_text(phase.ends_at, zone),
                existing=True,
            )
            for phase in campaign.phases
        ]
        texts = {f: dict(getattr(campaign, f) or {}) for f in TRANSLATED_FIELDS}
        return cls(list(campaign.city.enabled_locales), texts, phases)

    @classmethod
    def from_form(cls, city: City, form: MultiDict) -> "CampaignInput":
        locales = list(city.enabled_locales)
        texts = {
            name: {loc: _text(form.get(f"{name}-{loc}")) for loc in locales}
            for name in TRANSLATED_FIELDS
        }
        indexes = sorted({int(m.group(1)) for key in form if (m := PHASE_KEY.match(key))})
        zone = ZoneInfo(city.timezone)
        phases = []
        for index in indexes[:MAX_PHASE_ROWS]:
            prefix = f"phase-{index}-"
            row = PhaseRow(
                title={loc: _text(form.get(f"{prefix}title-{loc}")) for loc in locales},
                starts_at=form.get(f"{prefix}starts_at", ""),
                ends_at=form.get(f"{prefix}ends_at", ""),
                remove=form.get(f"{prefix}remove") == "1",
                existing=form.get(f"{prefix}existing") == "1",
            )
            row.parse(zone)
            phases.append(row)
        return cls(locales, texts, phases)

    @property
    def has_errors(self) -> bool:
        return any(row.errors for row in self.phases)

    def rows_to_show(self) -> list[PhaseRow]:
        """The typed rows without blank ones, then empty rows to add phases."""
        rows = [row for row in self.phases if not row.is_blank]
        spare = max(SPARE_PHASE_ROWS, MIN_PHASE_ROWS - len(rows))
        return rows + [PhaseRow() for _ in range(spare)]

    def service_values(self) -> dict:
        """Keyword arguments for create_campaign / update_campaign.

        Phases are left out while a row cannot be read, so the service does not judge a
        partial list; the texts are still checked and every error is shown at once.
        """
        values: dict = {name: dict(texts) for name, texts in self.texts.items()}
        if not self.has_errors:
            values["phases"] = [
                {"title": row.title, "starts_at": row.starts_utc, "ends_at": row.ends_utc}
                for row in self.phases
                if row.counts
            ]
        return values


# --- the campaign a new survey, board or workshop belongs to ------------------------------


def open_campaigns(city: City) -> list[Campaign]:
    """The city's campaigns that take new surveys, boards and workshops (not archived)."""
    return [
        c
        for c in campaigns_for_console(db.session, actor(), city)
        if c.status != CampaignStatus.ARCHIVED
    ]


def campaign_choices(city: City) -> list[SelectChoice]:
    locale = current_locale()
    return [
        SelectChoice(c.slug, Shown.of(c.title, locale, city).text or c.slug)
        for c in open_campaigns(city)
    ]


def chosen_campaign(city: City, field: SelectField) -> Campaign | None:
    """The campaign chosen on the form, if it is one of the city's; else an error on it."""
    for campaign in open_campaigns(city):
        if campaign.slug == field.data:
            return campaign
    field.errors = [*field.errors, _("Choose one of the city's campaigns.")]
    return None
