"""What is held about one person, per domain: the rows that belong to them, made readable.

Each ``_section`` returns plain JSON-ready values (times stay datetimes; the archive writes
them as ISO 8601). Rules kept throughout: no secret (password hash, token hashes, sealed
provider tokens, push keys or endpoints), and nothing of other people (no other author's
name, no other person's id): a comment of mine says which idea it is on by the idea's title
only when the idea is mine, else by its id, which is the city's, not a person's.

``COVERED`` and ``NOT_PERSONAL`` together name every table with a column pointing at
``users.id``; a test fails when a new such table is in neither (tests/privacy).
"""

from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.audit import AuditEntry
from app.consent_models import Consent
from app.models import AccessToken, RoleGrant, User
from campaigns.models import Campaign, CampaignFollow
from i18n.content import pick
from notifications.models import (
    Notification,
    NotificationPreference,
    NotificationSettings,
    PushDevice,
)
from privacy.collect_energy import energy_section
from privacy.collect_participation import ideas_section, workshops_section
from privacy.models import DataExport
from surveys.models import SurveyResponse

#: Tables whose rows of a person are in the export (the person's column(s) named).
COVERED = {
    "users": "id",
    "role_grants": "user_id",
    "access_tokens": "user_id",
    "consents": "user_id",
    "campaign_follows": "user_id",
    "survey_responses": "user_id",
    "ideas": "author_id",
    "idea_comments": "author_id",
    "idea_supports": "user_id",
    "idea_flags": "user_id",
    "idea_mutes": "user_id",
    "workshop_registrations": "user_id",
    "calendar_feeds": "user_id",
    "notifications": "user_id",
    "notification_preferences": "user_id",
    "notification_settings": "user_id",
    "push_devices": "user_id",
    "households": "user_id",
    "meters": "user_id",
    "meter_imports": "user_id",
    "energy_feedback_reports": "user_id",
    "meter_provider_connections": "user_id",
    "audit_log": "actor_id",
    "personal_data_exports": "user_id",
}

#: Tables pointing at users that are not exported, and why.
NOT_PERSONAL = {
    "email_codes": "one-time codes, stored hashed: secrets, deleted within the day",
    "idea_support_budgets": "a counter of supports already exported one by one",
    "idea_status_changes": "the city's answers; actor_id is a staff member, not the reader",
    "updates": "news written by staff; created_by_id names the staff author",
    "survey_responses.single_owner_id": "the same person as user_id, for a unique key",
}


def account_section(session: Session, user: User) -> dict:
    grants = session.scalars(sa.select(RoleGrant).where(RoleGrant.user_id == user.id))
    devices = session.scalars(
        sa.select(AccessToken)
        .where(AccessToken.user_id == user.id)
        .order_by(AccessToken.created_at)
    )
    return {
        "email": user.email,
        "display_name": user.display_name,
        "locale": user.locale,
        "city": user.city.name,
        "created_at": user.created_at,
        "email_verified_at": user.email_verified_at,
        "password_changed_at": user.password_changed_at,
        "disabled_at": user.disabled_at,
        "roles": [
            {"role": g.role, "city": g.city.name, "granted_at": g.granted_at} for g in grants
        ],
        # Signed-in devices and sessions: what they are, never their tokens.
        "sign_ins": [
            {
                "kind": t.kind,
                "label": t.label,
                "created_at": t.created_at,
                "last_used_at": t.last_used_at,
                "expires_at": t.expires_at,
                "revoked_at": t.revoked_at,
            }
            for t in devices
        ],
    }


def consents_section(session: Session, user: User) -> list[dict]:
    rows = session.scalars(
        sa.select(Consent).where(Consent.user_id == user.id).order_by(Consent.given_at)
    )
    return [
        {
            "purpose": c.purpose,
            "version": c.version,
            "given_at": c.given_at,
            "method": c.method,
            "withdrawn_at": c.withdrawn_at,
        }
        for c in rows
    ]


def title_in(value: dict | None, locale: str) -> str:
    return pick(value, locale)[0]


def follows_section(session: Session, user: User, locale: str) -> list[dict]:
    rows = session.execute(
        sa.select(CampaignFollow.created_at, Campaign.id, Campaign.title)
        .join(Campaign, Campaign.id == CampaignFollow.campaign_id)
        .where(CampaignFollow.user_id == user.id)
        .order_by(CampaignFollow.created_at)
    )
    return [
        {"campaign_id": cid, "campaign": title_in(title, locale), "followed_at": at}
        for at, cid, title in rows
    ]


def _questions(definition: dict, locale: str) -> dict[str, str]:
    """Question key → its title in ``locale`` (or the best other language)."""
    return {
        q["key"]: title_in(q.get("title"), locale)
        for page in definition.get("pages", [])
        for q in page.get("questions", [])
    }


def surveys_section(session: Session, user: User, locale: str) -> list[dict]:
    rows = session.scalars(
        sa.select(SurveyResponse)
        .where(SurveyResponse.user_id == user.id)
        .order_by(SurveyResponse.started_at, SurveyResponse.id)
    )
    held = []
    for response in rows:
        definition = response.version.definition or {}
        labels = _questions(definition, locale)
        held.append(
            {
                "survey_id": response.survey_id,
                "survey": title_in(definition.get("title"), locale),
                "version": response.version.number,
                "status": response.status,
                "locale": response.locale,
                "started_at": response.started_at,
                "submitted_at": response.submitted_at,
                "withdrawn_at": response.withdrawn_at,
                "answers": [
                    {"question": key, "label": labels.get(key, key), "answer": value}
                    for key, value in (response.answers or {}).items()
                ],
            }
        )
    return held


def notifications_section(session: Session, user: User) -> dict:
    received = session.scalars(
        sa.select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at, Notification.id)
    )
    devices = session.scalars(
        sa.select(PushDevice).where(PushDevice.user_id == user.id).order_by(PushDevice.id)
    )
    prefs = session.scalars(
        sa.select(NotificationPreference)
        .where(NotificationPreference.user_id == user.id)
        .order_by(NotificationPreference.kind)
    )
    settings = session.get(NotificationSettings, user.id)
    return {
        "received": [
            {
                "kind": n.kind,
                "subject": n.subject,
                "text": n.body_text,
                "created_at": n.created_at,
                "read_at": n.read_at,
            }
            for n in received
        ],
        "preferences": [
            {"kind": p.kind, "inbox": p.inbox, "push": p.push, "email": p.email} for p in prefs
        ],
        "settings": None
        if settings is None
        else {
            "timezone": settings.timezone,
            "quiet_start": settings.quiet_start.isoformat() if settings.quiet_start else None,
            "quiet_end": settings.quiet_end.isoformat() if settings.quiet_end else None,
            "email_paused_at": settings.email_paused_at,
        },
        # Described, never their endpoints, tokens or keys.
        "push_devices": [
            {
                "platform": d.platform,
                "label": d.label,
                "created_at": d.created_at,
                "last_success_at": d.last_success_at,
            }
            for d in devices
        ],
    }


def audit_section(session: Session, user: User) -> list[dict]:
    """What the person did that was logged: actions only (reasons may name others)."""
    rows = session.execute(
        sa.select(AuditEntry.action, AuditEntry.subject_type, AuditEntry.created_at)
        .where(AuditEntry.actor_id == user.id)
        .order_by(AuditEntry.created_at, AuditEntry.id)
    )
    return [{"action": a, "subject_type": s, "created_at": at} for a, s, at in rows]


def exports_section(session: Session, user: User) -> list[dict]:
    rows = session.execute(
        sa.select(DataExport.requested_at, DataExport.status, DataExport.downloaded_at)
        .where(DataExport.user_id == user.id)
        .order_by(DataExport.requested_at)
    )
    return [{"requested_at": r, "status": s, "downloaded_at": d} for r, s, d in rows]


def collect(session: Session, user: User, locale: str) -> tuple[dict, Iterator]:
    """Everything held about ``user``: the data (JSON-ready) and their meters' readings
    (``(meter, rows)`` pairs, read lazily for the CSV files)."""
    energy, readings = energy_section(session, user)
    data = {
        "account": account_section(session, user),
        "consents": consents_section(session, user),
        "campaign_follows": follows_section(session, user, locale),
        "survey_responses": surveys_section(session, user, locale),
        "ideas": ideas_section(session, user),
        "workshops": workshops_section(session, user, locale),
        "notifications": notifications_section(session, user),
        "energy": energy,
        "audit": audit_section(session, user),
        "data_exports": exports_section(session, user),
    }
    return data, readings
