"""Researchers' exports: requesting one, listing them, short-lived download links, projects
whose exports share a pseudonym key, and what happens when a build ends or a file expires.

Only a researcher of the city requests; only the requester downloads, through a link that
works for a few minutes (``RESEARCH_LINK_MINUTES``) and only for them; the city's admins see
every request and its report, never the file. Requests and downloads are audited in the
transaction that makes them.
"""

import hashlib
import hmac
import logging
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app import audit
from app.db import MAX_ID, utcnow
from app.errors import Gone, Invalid, NotAllowed, NotFound
from app.models import City, User
from app.policy import can
from app.sealed import derived_key
from campaigns.models import Campaign
from i18n import LOCALES, _, _l
from research.datasets import quasi_candidates
from research.models import DatasetKind, ResearchExport, ResearchProject, ResearchStatus
from research.options import ExportOptions, option_problems
from surveys.models import Survey

log = logging.getLogger("livinglab.research")

#: HKDF's ``info``: the key of download links is worth nothing for any other purpose.
LINK_PURPOSE = b"livinglab/research-link/v1"
READY_KIND = "research.export_ready"
PURPOSE_MIN, PURPOSE_MAX = 20, 2000

#: What the console shows for the stage a build is in.
STAGES = {
    "": _l("Waiting"),
    "reading": _l("Reading the records"),
    "anonymising": _l("Anonymising"),
    "writing": _l("Writing the files"),
    "checking": _l("Checking anonymity"),
    "packing": _l("Packing"),
    "done": _l("Done"),
}
DATASET_LABELS = {
    DatasetKind.SURVEY: _l("A survey's responses"),
    DatasetKind.IDEAS: _l("A campaign's ideas, comments and supports"),
    DatasetKind.WORKSHOPS: _l("A campaign's workshop participation"),
    DatasetKind.ENERGY: _l("Energy use per district and month"),
}


def is_researcher(user: User, city: City) -> bool:
    """A researcher of the city by grant (``research.export`` in app/policy.py)."""
    return can(user, "research.export", city)


def is_admin(user: User, city: City) -> bool:
    """One who oversees the city's research requests (``research.oversee``)."""
    return can(user, "research.oversee", city)


# --- requests ----------------------------------------------------------------------------


def _subject_problem(
    session: Session, city: City, kind: DatasetKind, subject_id: int | None
) -> str | None:
    """Why the subject cannot be exported from this city (None: it can)."""
    if subject_id is None:
        if kind == DatasetKind.ENERGY:
            return None  # the whole city
        return _("Choose what to export.")
    if not 0 < subject_id <= MAX_ID:
        return _("Choose what to export from the list.")
    model = Survey if kind == DatasetKind.SURVEY else Campaign
    found = session.scalar(
        sa.select(model.id).where(model.id == subject_id, model.city_id == city.id)
    )
    if found is None:
        # Another city's survey reads like one that does not exist.
        return _("Choose what to export from the list.")
    return None


def _role_problems(
    session: Session, kind: DatasetKind, subject_id: int | None, options: ExportOptions
) -> dict:
    """The questions marked quasi-identifying or sensitive must be the survey's own."""
    marked = [*options.quasi, *options.sensitive]
    if not marked:
        return {}
    if kind != DatasetKind.SURVEY:
        return {"quasi": [_("Only survey questions can be marked.")]}
    if subject_id is None:
        return {}
    known = {key for key, _label in quasi_candidates(session, subject_id)}
    return {
        name: [_("Choose questions from the list.")]
        for name in ("quasi", "sensitive")
        if set(getattr(options, name)) - known
    }


def _open_project(session: Session, city: City, project_id: int) -> bool:
    return (
        0 < project_id <= MAX_ID
        and session.scalar(
            sa.select(ResearchProject.id).where(
                ResearchProject.id == project_id,
                ResearchProject.city_id == city.id,
                ResearchProject.closed_at.is_(None),
            )
        )
        is not None
    )


def request_export(
    session: Session,
    user: User,
    city: City,
    *,
    dataset: DatasetKind | str,
    subject_id: int | None,
    purpose: str,
    options: ExportOptions,
    locale: str,
    project_id: int | None,
    now: datetime | None = None,
) -> ResearchExport:
    """A pending export the scheduler builds; only a researcher of the city may ask.

    Bad input raises ``Invalid`` with a translated message per field and changes nothing.
    """
    if not is_researcher(user, city):
        raise NotAllowed()
    now = now or utcnow()
    errors: dict[str, list[str]] = {}
    try:
        kind = DatasetKind(dataset)
    except ValueError:
        kind = None
        errors["dataset"] = [_("Choose a kind of export from the list.")]
    if kind is not None:
        problem = _subject_problem(session, city, kind, subject_id)
        if problem:
            errors["subject_id"] = [problem]
        else:
            errors |= _role_problems(session, kind, subject_id, options)
    purpose = (purpose or "").strip()
    if not PURPOSE_MIN <= len(purpose) <= PURPOSE_MAX:
        errors["purpose"] = [
            _(
                "Describe the purpose in %(low)d to %(high)d characters.",
                low=PURPOSE_MIN,
                high=PURPOSE_MAX,
            )
        ]
    if project_id is not None and not _open_project(session, city, project_id):
        errors["project_id"] = [_("Choose an open project of this city.")]
    if locale not in LOCALES:
        errors["locale"] = [_("Choose a language from the list.")]
    errors = option_problems(options, current_app.config) | errors
    if errors:
        raise Invalid(errors=errors)
    export = ResearchExport(
        city_id=city.id,
        requested_by_id=user.id,
        project_id=project_id,
        dataset=kind,
        subject_id=subject_id,
        purpose=purpose,
        locale=locale,
        options=options.to_json(),
        status=ResearchStatus.PENDING,
        requested_at=now,
        report={},
    )
    session.add(export)
    session.flush()
    audit.record(
        session,
        user,
        "research.export.request",
        "research_export",
        export.id,
        city_id=city.id,
        # The purpose is the entry's reason, as written; details hold only facts.
        reason=purpose,
        details={
            "dataset": str(kind),
            "subject_id": subject_id,
            "project_id": project_id,
            "locale": locale,
            "options": options.to_json(),
            "purpose_length": len(purpose),
        },
        now=now,
    )
    session.flush()
    log.info("research export requested", extra={"research_export_id": export.id})
    return export


def exports_for(session: Session, user: User, city: City) -> list[ResearchExport]:
    """A researcher's own requests; the city's admins see all of them (to read, not fetch)."""
    query = sa.select(ResearchExport).where(ResearchExport.city_id == city.id)
    if not is_admin(user, city):
        if not is_researcher(user, city):
            raise NotAllowed()
        query = query.where(ResearchExport.requested_by_id == user.id)
    return list(
        session.scalars(
            query.order_by(ResearchExport.requested_at.desc(), ResearchExport.id.desc())
        )
    )


def get_export(session: Session, user: User, city: City, export_id: int) -> ResearchExport:
    """One export as ``exports_for`` shows it; anyone else's reads as nonexistent."""
    if not 0 < export_id <= MAX_ID:
        raise NotFound()
    export = session.scalar(
        sa.select(ResearchExport).where(
            ResearchExport.id == export_id, ResearchExport.city_id == city.id
        )
    )
    if export is None or not (
        is_admin(user, city) or (is_researcher(user, city) and export.requested_by_id == user.id)
    ):
        raise NotFound()
    return export


# --- download links ----------------------------------------------------------------------


def _link_digest(export_id: int, user_id: int, expiry: int) -> str:
    key = derived_key(LINK_PURPOSE)
    message = f"research-export:{export_id}:{user_id}:{expiry}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def download_link_token(export: ResearchExport, user: User, now: datetime | None = None) -> str:
    """A token for the requester's download link, good for ``RESEARCH_LINK_MINUTES``.

    It carries its own expiry (``<epoch>.<hex digest>``) and is bound to the export and the
    person, so nothing is stored and a copied link is worth nothing to anyone else.
    """
    if export.requested_by_id != user.id or export.status != ResearchStatus.READY:
        raise NotFound()
    minutes = current_app.config["RESEARCH_LINK_MINUTES"]
    expiry = int(((now or utcnow()) + timedelta(minutes=minutes)).timestamp())
    return f"{expiry}.{_link_digest(export.id, user.id, expiry)}"


def _link_expiry(token: str, export_id: int, user_id: int) -> int | None:
    """The expiry a genuine token for this export and person carries; None for any other."""
    expiry_text, _dot, digest = (token or "").partition(".")
    if not expiry_text.isdigit() or len(expiry_text) > 12 or len(digest) != 64:
        return None
    expiry = int(expiry_text)
    if not hmac.compare_digest(digest, _link_digest(export_id, user_id, expiry)):
        return None
    return expiry


def export_path(export: ResearchExport) -> Path | None:
    if not export.file_name:
        return None
    return Path(current_app.config["RESEARCH_EXPORT_DIR"]) / export.file_name


def open_download(
    session: Session,
    user: User,
    city: City,
    export_id: int,
    token: str,
    now: datetime | None = None,
) -> tuple[ResearchExport, Path]:
    """The file of a ready export, for its requester holding a valid link.

    Anyone else, a changed or foreign token, or an export that is not ready: ``NotFound``, as
    if it did not exist. A link past its minutes, or an export past its days: ``Gone``. A
    link may be used again while it is valid (a large download that broke off is fetched
    again); every download is counted and audited.
    """
    now = now or utcnow()
    if not 0 < export_id <= MAX_ID:
        raise NotFound()
    export = session.scalar(
        sa.select(ResearchExport).where(
            ResearchExport.id == export_id, ResearchExport.city_id == city.id
        )
    )
    if export is None or export.requested_by_id != user.id or not is_researcher(user, city):
        raise NotFound()
    expiry = _link_expiry(token, export.id, user.id)
    if expiry is None:
        raise NotFound()
    if export.status == ResearchStatus.EXPIRED or (
        export.status == ResearchStatus.READY
        and export.expires_at is not None
        and export.expires_at <= now
    ):
        raise Gone(_("This export has expired and its file was deleted."))
    if export.status != ResearchStatus.READY:
        raise NotFound()
    if expiry <= now.timestamp():
        raise Gone(_("This download link has expired. Open the export again for a new one."))
    path = export_path(export)
    if path is None or not path.is_file():
        log.error("research export file missing", extra={"research_export_id": export.id})
        raise Gone(_("This export has expired and its file was deleted."))
    session.execute(
        sa.update(ResearchExport)
        .where(ResearchExport.id == export.id)
        .values(downloads=ResearchExport.downloads + 1)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        user,
        "research.export.download",
        "research_export",
        export.id,
        city_id=city.id,
        details={"size_bytes": export.size_bytes, "sha256": export.file_sha256},
        now=now,
    )
    session.flush()
    session.refresh(export)
    log.info("research export downloaded", extra={"research_export_id": export.id})
    return export, path


# --- expiry ------------------------------------------------------------------------------


def erase_file(name: str | None) -> None:
    """Remove an export's file (already gone is fine)."""
    if name:
        (Path(current_app.config["RESEARCH_EXPORT_DIR"]) / name).unlink(missing_ok=True)


def expire(session: Session, now: datetime) -> int:
    """Ready and blocked exports past their days: the file erased, the request and report kept."""
    due = session.execute(
        sa.select(ResearchExport.id, ResearchExport.file_name).where(
            ResearchExport.status.in_((ResearchStatus.READY, ResearchStatus.BLOCKED)),
            ResearchExport.expires_at <= now,
        )
    ).all()
    for export_id, file_name in due:
        session.execute(
            sa.update(ResearchExport)
            .where(ResearchExport.id == export_id)
            .values(status=ResearchStatus.EXPIRED, file_name=None)
            .execution_options(synchronize_session=False)
        )
        erase_file(file_name)
    session.flush()
    return len(due)
