"""The ZIP a person downloads: README.txt in their language, data.json with everything, and
CSV files for the tabular parts (UTF-8 with BOM, cells neutralised for spreadsheets)."""

import csv
import io
import json
import zipfile
from datetime import date, datetime, time
from decimal import Decimal

from babel.dates import format_datetime

from app.spreadsheet import BOM, neutralised
from i18n import _, force_locale


def _json_default(value):
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _csv(rows, header: list[str]) -> bytes:
    """A CSV file (rows may be a generator) as bytes, UTF-8 with BOM."""
    text = io.StringIO()
    text.write(BOM)
    writer = csv.writer(text)
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [neutralised(v.isoformat() if isinstance(v, datetime | date) else v) for v in row]
        )
    return text.getvalue().encode("utf-8")


def _answers_rows(responses: list[dict]):
    for r in responses:
        for a in r["answers"]:
            answer = a["answer"]
            if isinstance(answer, list | dict):
                answer = json.dumps(answer, ensure_ascii=False, default=_json_default)
            yield (r["survey"], r["submitted_at"], a["label"], answer)


def _readme(data: dict, files: list[str], made_at: datetime, keep_until: datetime, locale: str):
    with force_locale(locale):
        lines = [
            _("A copy of the data Living Lab holds about you"),
            "",
            _(
                "Made on %(when)s for %(email)s.",
                when=format_datetime(made_at, "long", locale=locale),
                email=data["account"]["email"],
            ),
            _(
                "This file can be downloaded once, until %(when)s; after that it is deleted.",
                when=format_datetime(keep_until, "long", locale=locale),
            ),
            "",
            _("What the files hold:"),
            "- data.json: "
            + _(
                "everything held about you (account, consents, followed campaigns, survey "
                "answers, ideas, comments, supports, workshops, notifications, energy), "
                "times in ISO 8601 (UTC)."
            ),
            "- survey-answers.csv: " + _("your survey answers, one row per answer."),
            "- notifications.csv: " + _("the notifications sent to you."),
        ]
        if any(name.startswith("readings-") for name in files):
            lines.append(
                "- readings-meter-<id>.csv: "
                + _("the readings of each of your meters: start, end, value, unit.")
            )
        lines += [
            "",
            _("Your rights:"),
            _(
                "You may ask for this data at any time, have it corrected, withdraw a consent "
                "and object to its use. Secrets such as your password or sign-in tokens are "
                "never included."
            ),
            _(
                "You may also delete your account in the app, at any time. Everything held "
                "about you is then erased, except your ideas and comments, which stay for the "
                "others as by a “deleted participant”, and, if you agreed to research use, "
                "your survey answers and daily energy totals, kept with nothing linking them "
                "to you."
            ),
            "",
        ]
    return "\n".join(lines)


def build_zip(
    data: dict, readings: list, *, made_at: datetime, keep_until: datetime, locale: str
) -> bytes:
    """The archive's bytes; readings are ``(meter, rows)`` pairs, written one file each."""
    buffer = io.BytesIO()
    files: list[str] = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for meter, rows in readings:
            name = f"readings-meter-{meter.id}.csv"
            unit = meter.unit
            archive.writestr(
                name,
                _csv(((s, e, v, unit) for s, e, v in rows), ["start", "end", "value", "unit"]),
            )
            files.append(name)
        archive.writestr(
            "survey-answers.csv",
            _csv(
                _answers_rows(data["survey_responses"]),
                ["survey", "submitted_at", "question", "answer"],
            ),
        )
        archive.writestr(
            "notifications.csv",
            _csv(
                (
                    (n["created_at"], n["kind"], n["subject"], n["read_at"])
                    for n in data["notifications"]["received"]
                ),
                ["created_at", "kind", "subject", "read_at"],
            ),
        )
        archive.writestr(
            "data.json",
            json.dumps(data, ensure_ascii=False, indent=2, default=_json_default),
        )
        archive.writestr("README.txt", _readme(data, files, made_at, keep_until, locale))
    return buffer.getvalue()
