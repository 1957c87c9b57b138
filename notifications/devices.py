"""People's push devices: registering a phone or browser, listing and removing one's own.

A device is known by its address (the Web Push endpoint or the FCM token), whoever registers
it: registering the same address again refreshes it, and a shared phone signed into another
account moves to that account, so one address never gets two people's notifications.
Each person keeps at most MAX_DEVICES; registering one more forgets the one heard from least
recently, because phones and browsers often vanish without unsubscribing, and a new phone
must not be refused for an old one its owner cannot remove any more.
"""

import base64
import binascii
import hashlib
import re
from functools import lru_cache
from urllib.parse import urlsplit

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from py_vapid import Vapid
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Invalid, NotFound
from app.models import User
from i18n import _
from notifications import outbound
from notifications.models import (
    Delivery,
    DeliveryStatus,
    Notification,
    PushDevice,
    PushPlatform,
)

MAX_DEVICES = 20
MAX_TOKEN_LENGTH = 1024
MAX_LABEL_LENGTH = 100
#: FCM registration tokens are printable ASCII without spaces.
TOKEN_FORM = re.compile(r"^[\x21-\x7e]+$")


# --- what push needs from the configuration ------------------------------------------------


def _b64url_decode(value: str) -> bytes:
    """Decode base64url with or without padding; ValueError when it is not base64url."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", value):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError("not base64url") from error


def _b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@lru_cache(maxsize=4)
def vapid_key(private_key: str) -> Vapid:
    """The VAPID signer for a configured private key: PEM text (``\\n`` may be written as
    two characters in an environment variable) or base64url raw/DER as py_vapid reads it."""
    text = private_key.strip().replace("\\n", "\n")
    if "-----BEGIN" in text:
        key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("VAPID_PRIVATE_KEY must be a P-256 (prime256v1) key")
        return Vapid(key)
    return Vapid.from_string(text)


def webpush_enabled(config) -> bool:
    return bool(config.get("VAPID_PRIVATE_KEY") and config.get("VAPID_SUBJECT"))


def fcm_enabled(config) -> bool:
    return bool(config.get("FCM_PROJECT_ID") and config.get("FCM_CREDENTIALS_FILE"))


def application_server_key(config) -> str | None:
    """The VAPID public key browsers subscribe with (base64url), when Web Push is set up."""
    if not webpush_enabled(config):
        return None
    if config.get("VAPID_PUBLIC_KEY"):
        return config["VAPID_PUBLIC_KEY"]
    public = vapid_key(config["VAPID_PRIVATE_KEY"]).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url_encode(public)


def push_settings(config=None) -> dict:
    """What a client needs to register: the VAPID public key, and whether FCM is on."""
    config = config if config is not None else current_app.config
    return {"webpush_public_key": application_server_key(config), "fcm": fcm_enabled(config)}


# --- devices ---------------------------------------------------------------------------------


def address_hash(address: str) -> str:
    return hashlib.sha256(address.encode("utf-8")).hexdigest()


def address_hint(device: PushDevice) -> str:
    """Enough of the address for a person to tell devices apart, never all of it."""
    if device.platform == PushPlatform.WEBPUSH:
        return urlsplit(device.address).hostname or ""
    return "…" + device.address[-4:]


def _p256dh_error(value: str | None) -> str | None:
    if not value:
        return _("This field is required.")
    try:
        raw = _b64url_decode(value)
        if len(raw) != 65 or raw[0] != 4:
            raise ValueError("not an uncompressed point")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        return _("Not a valid P-256 public key (65 bytes, base64url).")
    return None


def _auth_error(value: str | None) -> str | None:
    if not value:
        return _("This field is required.")
    try:
        if len(_b64url_decode(value)) != 16:
            raise ValueError("not 16 bytes")
    except ValueError:
        return _("Not a valid authentication secret (16 bytes, base64url).")
    return None


def _validate_webpush(endpoint: str | None, keys: dict | None, token: str | None) -> dict:
    errors: dict = {}
    if token is not None:
        errors["token"] = [_("Only for FCM devices.")]
    if not endpoint:
        errors["endpoint"] = [_("This field is required.")]
    else:
        try:
            outbound.check_url(endpoint)
        except outbound.Refused as refused:
            errors["endpoint"] = [str(refused.message)]
    keys = keys or {}
    key_errors = {
        name: [message]
        for name, message in (
            ("p256dh", _p256dh_error(keys.get("p256dh"))),
            ("auth", _auth_error(keys.get("auth"))),
        )
        if message
    }
    if key_errors:
        errors["keys"] = key_errors
    return errors


def _validate_fcm(token: str | None, endpoint: str | None, keys: dict | None) -> dict:
    errors: dict = {}
    for name, value in (("endpoint", endpoint), ("keys", keys)):
        if value is not None:
            errors[name] = [_("Only for Web Push devices.")]
    if not token:
        errors["token"] = [_("This field is required.")]
    elif len(token) > MAX_TOKEN_LENGTH or not TOKEN_FORM.match(token):
        errors["token"] = [_("Not a valid FCM registration token.")]
    return errors


def _available(platform: str) -> bool:
    config = current_app.config
    return webpush_enabled(config) if platform == PushPlatform.WEBPUSH else fcm_enabled(config)


def _by_address(session: Session, digest: str) -> PushDevice | None:
    return session.scalar(sa.select(PushDevice).where(PushDevice.address_hash == digest))


def _cancel_pending(session: Session, device_id: int, *, not_for: int | None = None) -> None:
    """Drop the device's unsent push deliveries (only other people's, with ``not_for``)."""
    query = sa.update(Delivery).where(
        Delivery.device_id == device_id, Delivery.status == DeliveryStatus.PENDING
    )
    if not_for is not None:
        others = sa.select(Notification.id).where(Notification.user_id != not_for)
        query = query.where(Delivery.notification_id.in_(others))
    session.execute(
        query.values(
            status=DeliveryStatus.CANCELLED, last_error="device removed or moved"
        ).execution_options(synchronize_session=False)
    )


def _delete_devices(session: Session, ids: list[int]) -> None:
    for device_id in ids:
        _cancel_pending(session, device_id)
    # A statement, not ORM deletes: the database sets the deliveries' device_id to NULL.
    session.execute(
        sa.delete(PushDevice)
        .where(PushDevice.id.in_(ids))
        .execution_options(synchronize_session=False)
    )


def _keep_within_limit(session: Session, user: User, keep: PushDevice) -> None:
    """Forget the devices heard from least recently beyond MAX_DEVICES."""
    seen = sa.func.coalesce(PushDevice.last_success_at, PushDevice.created_at)
    surplus = list(
        session.scalars(
            sa.select(PushDevice.id)
            .where(PushDevice.user_id == user.id, PushDevice.id != keep.id)
            .order_by(seen.desc(), PushDevice.id.desc())
            .offset(MAX_DEVICES - 1)
        )
    )
    if surplus:
        _delete_devices(session, surplus)


def register_device(
    session: Session,
    user: User,
    *,
    platform: str,
    endpoint: str | None = None,
    keys: dict | None = None,
    token: str | None = None,
    label: str | None = None,
) -> tuple[PushDevice, bool]:
    """Register (or refresh) one of the person's devices; returns it and whether it is new.

    Raises Invalid with per-field messages: an endpoint must pass the outbound check (https to
    a public host), Web Push keys must be a P-256 point and a 16-byte secret.
    """
    if platform not in set(PushPlatform):
        raise Invalid(errors={"platform": [_("Must be one of: webpush, fcm.")]})
    if not _available(platform):
        raise Invalid(
            errors={"platform": [_("This kind of push notification is not available here.")]}
        )
    if platform == PushPlatform.WEBPUSH:
        errors = _validate_webpush(endpoint, keys, token)
        address = endpoint
    else:
        errors = _validate_fcm(token, endpoint, keys)
        address = token
    if label is not None and (len(label) > MAX_LABEL_LENGTH or not label.isprintable()):
        errors["label"] = [_("Use at most 100 printable characters.")]
    if errors:
        raise Invalid(errors=errors)

    keys = keys or {}
    digest = address_hash(address)
    device = _by_address(session, digest)
    created = device is None
    if created:
        device = PushDevice(
            user_id=user.id,
            platform=platform,
            address_hash=digest,
            address=address,
            label=(label or "").strip(),
            created_at=utcnow(),
        )
        try:
            with session.begin_nested():
                session.add(device)
        except IntegrityError:
            # The same device registered at the same moment by a concurrent request.
            device = _by_address(session, digest)
            created = False
    if not created and device.user_id != user.id:
        # A shared phone signed into another account: the old account's pending pushes stop.
        _cancel_pending(session, device.id, not_for=user.id)
        device.user_id = user.id
        device.created_at = utcnow()
        device.last_success_at = None
        device.label = ""
    device.platform = platform
    device.p256dh = keys.get("p256dh")
    device.auth = keys.get("auth")
    if label is not None:
        device.label = label.strip()
    session.flush()
    _keep_within_limit(session, user, device)
    return device, created


def list_devices(session: Session, user: User) -> list[PushDevice]:
    """The person's devices, most recently registered first."""
    return list(
        session.scalars(
            sa.select(PushDevice)
            .where(PushDevice.user_id == user.id)
            .order_by(PushDevice.created_at.desc(), PushDevice.id.desc())
        )
    )


def remove_device(session: Session, user: User, device_id: int) -> None:
    """Forget one of the person's devices; someone else's reads as not found."""
    device = session.get(PushDevice, device_id)
    if device is None or device.user_id != user.id:
        raise NotFound()
    _delete_devices(session, [device.id])
    session.expunge(device)
