"""A person's copies of their data: asking for one, building it, downloading it once, expiry.

The token of the download link is made when the copy is built and kept only as a SHA-256;
the list shows it (in the link) to the owner while the copy is ready. Downloading takes both
the owner's sign-in and the token; the first download spends the token and erases the file.
"""

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, undefer

from app.db import utcnow
from app.errors import Gone, NotFound
from app.models import User
from app.sealed import derived_key
from i18n import _
from notifications.service import notify_one
from privacy.archive import build_zip
from privacy.collect import collect
from privacy.models import DataExport, ExportStatus

log = logging.getLogger("livinglab.privacy")

READY_KIND = "privacy.export_ready"
#: HKDF's ``info``: the key of download links is worth nothing for any other purpose.
LINK_PURPOSE = b"livinglab/data-export-link/v1"
#: Copies still being made or waiting to be fetched: asking again returns this one.
OPEN = (ExportStatus.PENDING, ExportStatus.READY)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token_for(export: DataExport) -> str:
    """The download token: a keyed digest of the copy and when it was made (under a key derived
    for this use alone), so it is unguessable, never stored in clear text (only its SHA-256
    is), and can still be shown again in the owner's list while the copy is ready."""
    key = derived_key(LINK_PURPOSE)
    message = f"privacy-export:{export.id}:{round(export.ready_at.timestamp() * 1e6)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def download_token(export: DataExport) -> str | None:
    """The token for the owner's download link, while the copy is ready."""
    if export.status != ExportStatus.READY or export.ready_at is None:
        return None
    return _token_for(export)


def request_export(
    session: Session, user: User, locale: str, now: datetime | None = None
) -> tuple[DataExport, bool]:
    """Ask for a copy; the one still being made or ready is returned instead (False)."""
    existing = session.scalar(
        sa.select(DataExport)
        .where(DataExport.user_id == user.id, DataExport.status.in_(OPEN))
        .order_by(DataExport.requested_at.desc())
        .limit(1)
    )
    if existing is not None and not _past(existing, now or utcnow()):
        return existing, False
    export = DataExport(
        user_id=user.id,
        status=ExportStatus.PENDING,
        locale=locale,
        requested_at=now or utcnow(),
    )
    session.add(export)
    session.flush()
    return export, True


def _past(export: DataExport, now: datetime) -> bool:
    return export.expires_at is not None and export.expires_at <= now


def list_exports(session: Session, user: User) -> list[DataExport]:
    return list(
        session.scalars(
            sa.select(DataExport)
            .where(DataExport.user_id == user.id)
            .order_by(DataExport.requested_at.desc(), DataExport.id.desc())
        )
    )


def build(session: Session, export_id: int, now: datetime) -> bool:
    """Build one pending copy, store it, and tell its owner; False when nothing was due."""
    export = session.scalar(
        sa.select(DataExport)
        .where(DataExport.id == export_id, DataExport.status == ExportStatus.PENDING)
        .with_for_update(skip_locked=True)
    )
    if export is None:
        return False
    user = session.get(User, export.user_id)
    hours = current_app.config["PERSONAL_EXPORT_HOURS"]
    expires = now + timedelta(hours=hours)
    data, readings = collect(session, user, export.locale)
    content = build_zip(data, readings, made_at=now, keep_until=expires, locale=export.locale)
    export.ready_at = now
    export.expires_at = expires
    export.status = ExportStatus.READY
    export.content = content
    export.size_bytes = len(content)
    export.token_sha256 = token_digest(_token_for(export))
    notify_one(
        session,
        user.id,
        READY_KIND,
        {"expires_at": expires},
        data={"data_export_id": export.id},
        dedupe_key=f"data-export:{export.id}:ready",
        now=now,
    )
    return True


def fail(session: Session, export_id: int, code: str) -> None:
    session.execute(
        sa.update(DataExport)
        .where(DataExport.id == export_id, DataExport.status == ExportStatus.PENDING)
        .values(status=ExportStatus.FAILED, error=code[:100])
    )


def expire(session: Session, now: datetime) -> int:
    """Erase the copies not fetched in time."""
    return session.execute(
        sa.update(DataExport)
        .where(DataExport.status == ExportStatus.READY, DataExport.expires_at <= now)
        .values(status=ExportStatus.EXPIRED, content=None, token_sha256=None)
    ).rowcount


def download(
    session: Session, user: User, export_id: int, token: str, now: datetime | None = None
) -> tuple[DataExport, bytes]:
    """The copy's bytes, once: the token is spent and the file erased in the same commit.

    Another person's copy, or a wrong token, is not found; a spent or expired one is gone.
    """
    now = now or utcnow()
    export = session.scalar(
        sa.select(DataExport)
        .where(DataExport.id == export_id, DataExport.user_id == user.id)
        .options(undefer(DataExport.content))
        .with_for_update()
    )
    if export is None:
        raise NotFound()
    if export.status in (ExportStatus.DOWNLOADED, ExportStatus.EXPIRED) or (
        export.status == ExportStatus.READY and _past(export, now)
    ):
        raise Gone(_("This copy of your data has already been downloaded or has expired."))
    if export.status != ExportStatus.READY or not secrets.compare_digest(
        export.token_sha256 or "", token_digest(token or "")
    ):
        raise NotFound()
    content = export.content
    export.status = ExportStatus.DOWNLOADED
    export.downloaded_at = now
    export.content = None
    export.token_sha256 = None
    session.flush()
    log.info("personal data downloaded", extra={"data_export_id": export.id})
    return export, content
