"""Translated names the research pages of the console show: export states, datasets, what a
build's report counts, and file sizes and counts written for the reader."""

from babel.numbers import format_decimal
from babel.units import format_unit

from i18n import _l, _lp, current_locale
from research.models import DatasetKind, ResearchStatus

DATASET_HINTS = {
    DatasetKind.SURVEY: _l(
        "A row per respondent with their answers; choose which questions identify people."
    ),
    DatasetKind.IDEAS: _l("The ideas, comments and supports of one campaign."),
    DatasetKind.WORKSHOPS: _l("Who took part in a campaign's workshops and how, in counts."),
    DatasetKind.ENERGY: _l("Households' energy use per district and month, in counts and sums."),
}
STATUS_NAMES = {
    ResearchStatus.PENDING: _lp("research export", "Waiting"),
    ResearchStatus.RUNNING: _lp("research export", "Being built"),
    # TRANSLATORS: a research export that may be downloaded.
    ResearchStatus.READY: _lp("research export", "Ready"),
    # TRANSLATORS: a research export the anonymity check did not let out.
    ResearchStatus.BLOCKED: _lp("research export", "Blocked"),
    ResearchStatus.FAILED: _lp("research export", "Failed"),
    # TRANSLATORS: a research export whose file was deleted after its days.
    ResearchStatus.EXPIRED: _lp("research export", "Expired"),
}
#: A status's badge, in the console's colours.
STATUS_BADGES = {
    ResearchStatus.PENDING: "badge-draft",
    ResearchStatus.RUNNING: "badge-missing",
    ResearchStatus.READY: "badge-published",
    ResearchStatus.BLOCKED: "badge-archived",
    ResearchStatus.FAILED: "badge-archived",
    ResearchStatus.EXPIRED: "badge-draft",
}
#: Why records were left out of a table (``records_left_out_<reason>`` in its notes).
LEFT_OUT_NAMES = {
    "deleted_participant": _l("Left out: by a deleted account, whose consent is unknown"),
}
#: Counts in a table's notes of what deleted accounts left for research, included.
KEPT_NOTES = {
    "kept_after_account_deletion": _l("Responses kept for research from deleted accounts"),
    "kept_series": _l("Meters kept for research from deleted accounts"),
}
#: Why released records were suppressed by the anonymiser.
SUPPRESSED_NAMES = {
    "k": _l("Suppressed: too few records alike (k)"),
    "l": _l("Suppressed: too few different sensitive values (l)"),
}
#: What the scrubber replaced in free text.
REPLACEMENT_NAMES = {
    "email": _l("E-mail addresses"),
    "phone": _l("Phone numbers"),
    "url": _l("Web addresses"),
    "iban": _l("IBANs"),
    "name": _l("Names of registered people"),
}
#: The units a file's size is written in, from the largest.
SIZE_UNITS = (
    (1 << 30, "digital-gigabyte"),
    (1 << 20, "digital-megabyte"),
    (1 << 10, "digital-kilobyte"),
)


def file_size(size: int) -> str:
    """A file's size for a reader: "1.5 MB", in their language."""
    for factor, unit in SIZE_UNITS:
        if size >= factor:
            return format_unit(
                size / factor, unit, length="short", format="#,##0.#", locale=current_locale()
            )
    return format_unit(size, "digital-byte", length="short", locale=current_locale())


def number(value: int) -> str:
    """A count in the reader's number format."""
    return format_decimal(value, locale=current_locale())
