"""The README.txt of a research export, in the export's language."""

from datetime import datetime

from babel.dates import format_date

from i18n import _
from research.formats import Resource
from research.models import DatasetKind, ResearchExport
from research.options import ExportOptions
from research.service import DATASET_LABELS


def readme(
    export: ResearchExport,
    options: ExportOptions,
    resources: list[Resource],
    files: list[str],
    report: dict,
    now: datetime,
    keep: datetime,
) -> str:
    """README.txt in the export's language: what it is, why, how it was made anonymous."""
    titles = {r.path: f": {r.title}" for r in resources}
    locale = export.locale
    lines = [
        _("Living Lab research export no. %(id)d", id=export.id),
        "",
        _("What it holds: %(what)s.", what=DATASET_LABELS[DatasetKind(export.dataset)]),
        _("Made on %(day)s.", day=format_date(now.date(), "long", locale=locale)),
        _("Purpose, as the researcher stated it: %(purpose)s", purpose=export.purpose),
        "",
        _("How it was made anonymous"),
        _(
            "Only people who consented to the research use of their contributions are in it. "
            "Names, e-mail addresses, account ids, tokens and addresses are left out."
        ),
        _(
            "Participants appear under pseudonyms made with a key of this export's own, so "
            "this export cannot be joined with another one, unless both belong to the same "
            "research project."
        )
        if export.project_id is None
        else _(
            "Participants appear under pseudonyms made with the key of a research project: "
            "exports of the same project can be joined, others cannot."
        ),
        _(
            "Quasi-identifiers (such as age, district, household size, dates) are "
            "generalised, and records suppressed, until every record shares them with at "
            "least %(others)d other records (k = %(k)d). Sensitive answers take at least "
            "%(l)d different values in each such group.",
            others=options.k - 1,
            k=options.k,
            l=options.l,
        ),
        _(
            "Table cells counting fewer than %(n)d people are hidden, and so are other cells "
            "that would let them be worked out from the totals.",
            n=options.min_cell,
        ),
        _(
            "Free text is included, with e-mail addresses, phone numbers, web addresses, IBANs "
            "and names of registered people replaced."
        )
        if options.include_text
        else _("Free-text answers are left out."),
    ]
    if report["k_achieved"] is not None:
        lines.append(_("k achieved: %(k)d.", k=report["k_achieved"]))
    lines += [
        _("report.json says how many records were considered, released and suppressed, and why."),
        "",
        _("Files"),
        *(f"- {name}{titles.get(name, '')}" for name in files),
        "",
        _(
            "This file is kept until %(day)s, then deleted.",
            day=format_date(keep.date(), "long", locale=locale),
        ),
        _(
            "Do not try to find out who the people in this export are, nor link it with "
            "other data to that end. Do not pass it on beyond the stated purpose."
        ),
    ]
    return "\r\n".join(lines) + "\r\n"
