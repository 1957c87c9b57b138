"""The push channel: Web Push (VAPID, RFC 8030/8291/8292) and Firebase Cloud Messaging HTTP v1.

Every request goes through notifications.outbound: https to public addresses only, no
redirects, a timeout of at most 10 seconds and a capped answer. How providers answer maps to
the channel's outcomes:

- 2xx: sent;
- 404 and 410 from a Web Push service, FCM's UNREGISTERED and SENDER_ID_MISMATCH (a token
  of another Firebase project): Gone, the device is removed. FCM's 404 without UNREGISTERED
  is Permanent: a wrong FCM_PROJECT_ID answers so, and must not remove every device;
- 429, 408, 5xx, timeouts, lost connections, an answer too large or unreadable: Temporary,
  after Retry-After when the provider gave one;
- other answers (400, 401, 403, 413, a redirect) and addresses the outbound check refuses:
  Permanent. FCM's INVALID_ARGUMENT stays Permanent rather than Gone: it may be about our
  message, and dropping devices for our own mistake would silence everyone. FCM's 401 is
  about our access token: it is dropped and the delivery retried.

Endpoints and tokens are secrets of their owners (an endpoint is enough to push to them): logs
and errors name the device id and the push service's host, never the address.
"""

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests
from flask import Flask
from google.auth import exceptions as google_errors
from google.auth.transport.requests import Request as GoogleRequest
from google.oauth2 import service_account
from py_vapid import VapidException
from pywebpush import WebPusher, WebPushException

from notifications import kinds, outbound
from notifications.channels import Gone, Permanent, Skipped, Temporary
from notifications.devices import fcm_enabled, vapid_key, webpush_enabled
from notifications.models import Delivery, Notification, PushDevice, PushPlatform

log = logging.getLogger("livinglab.notifications")

#: How long a push service keeps a message for a device that is offline.
TTL = 24 * 3600
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
#: Characters of the notification's text shown in the push; the app opens the rest.
BODY_LENGTH = 240
#: Web Push carries at most 4096 encrypted bytes; stay well below with the JSON.
MAX_PAYLOAD = 3500
URGENCY = {kinds.Priority.HIGH: "high", kinds.Priority.NORMAL: "normal", kinds.Priority.LOW: "low"}


def shorten(text: str, length: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def payload(notification: Notification) -> dict:
    """What the device shows and what the app opens when the notification is tapped."""
    data = {**(notification.data or {}), "notification_id": notification.id}
    data["kind"] = notification.kind
    content = {
        "title": shorten(notification.subject, 200),
        "body": shorten(notification.body_text, BODY_LENGTH),
        "data": data,
    }
    if len(json.dumps(content).encode()) > MAX_PAYLOAD:
        # Oversized domain data: the app fetches the notification by id instead.
        content["data"] = {"notification_id": notification.id, "kind": notification.kind}
    return content


def retry_after(response: requests.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), if usable."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _host(url: str) -> str:
    return urlsplit(url).hostname or "?"


def _generic(response: requests.Response, what: str) -> None:
    """Outcome of an answer by its status alone (both providers share these)."""
    status = response.status_code
    if 200 <= status < 300:
        return
    message = f"{what} answered HTTP {status}"
    if status in (404, 410):
        raise Gone(message)
    if status == 429 or status == 408 or status >= 500:
        raise Temporary(message, retry_after(response))
    if 300 <= status < 400:
        raise Permanent(f"{what} redirected (HTTP {status}); redirects are not followed")
    raise Permanent(message)


@contextmanager
def _outbound_faults(what: str) -> Iterator[None]:
    """Turn transport failures into outcomes, without the URL (requests puts it in messages)."""
    try:
        yield
    except outbound.Refused as refused:
        raise Permanent(f"{what}: address refused ({refused.reason})") from None
    except (outbound.TooLarge, outbound.TooSlow) as error:
        raise Temporary(f"{what}: {error}") from None
    except requests.Timeout:
        raise Temporary(f"{what}: no answer in time") from None
    except requests.ConnectionError:
        raise Temporary(f"{what}: connection failed") from None
    except requests.RequestException as error:
        raise Temporary(f"{what}: request failed ({type(error).__name__})") from None


class WebPush:
    """Sends to browsers' push services with VAPID, encrypted with aes128gcm."""

    def __init__(self, config, session: outbound.OutboundSession):
        self.session = session
        self.subject = config["VAPID_SUBJECT"]
        self.vapid = vapid_key(config["VAPID_PRIVATE_KEY"])

    def send(self, device: PushDevice, content: dict, urgency: str) -> None:
        host = _host(device.address)
        what = f"web push service {host}"
        with _outbound_faults(what):
            # Before signing for it: a refused address is reported as such.
            outbound.check_url(device.address, allow_private=self.session.allow_private)
        parts = urlsplit(device.address)
        claims = {
            "sub": self.subject,
            "aud": f"{parts.scheme}://{parts.netloc}",
            "exp": int(time.time()) + 12 * 3600,
        }
        try:
            headers = self.vapid.sign(claims)
            subscription = {
                "endpoint": device.address,
                "keys": {"p256dh": device.p256dh, "auth": device.auth},
            }
            pusher = WebPusher(subscription, requests_session=self.session)
        except (VapidException, WebPushException, ValueError, TypeError) as error:
            raise Permanent(f"web push to {host}: cannot sign or encrypt ({error})") from None
        headers["Urgency"] = urgency
        body = json.dumps(content, ensure_ascii=False).encode()
        with _outbound_faults(what):
            try:
                response = pusher.send(body, headers, ttl=TTL, content_encoding="aes128gcm")
            except (WebPushException, ValueError) as error:
                raise Permanent(f"web push to {host}: cannot encrypt ({error})") from None
        _generic(response, what)


class Fcm:
    """Sends to Android and iOS apps through FCM HTTP v1 with a service account's token."""

    def __init__(self, config, session: outbound.OutboundSession):
        self.session = session
        self.credentials_file = config["FCM_CREDENTIALS_FILE"]
        base = config.get("FCM_ENDPOINT") or "https://fcm.googleapis.com"
        self.url = f"{base.rstrip('/')}/v1/projects/{config['FCM_PROJECT_ID']}/messages:send"
        self.transport = GoogleRequest(session)

    def send(self, device: PushDevice, content: dict, priority: kinds.Priority) -> None:
        high = priority == kinds.Priority.HIGH
        message = {
            "message": {
                "token": device.address,
                "notification": {"title": content["title"], "body": content["body"]},
                # FCM data values are strings only.
                "data": {
                    str(k): v if isinstance(v, str) else json.dumps(v)
                    for k, v in content["data"].items()
                },
                "android": {"priority": "high" if high else "normal", "ttl": f"{TTL}s"},
                "apns": {"headers": {"apns-priority": "10" if high else "5"}},
            }
        }
        what = f"FCM ({_host(self.url)})"
        token = self._access_token()
        with _outbound_faults(what):
            response = self.session.post(
                self.url,
                json=message,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.session.timeout,
            )
        if 200 <= response.status_code < 300:
            try:
                accepted = isinstance(response.json(), dict) and "name" in response.json()
            except ValueError:
                accepted = False
            if not accepted:
                raise Temporary(f"{what} answered {response.status_code} with an unreadable body")
            return
        code = _fcm_error_code(response)
        if code in ("UNREGISTERED", "SENDER_ID_MISMATCH"):
            raise Gone(f"{what}: {code}")
        if code:
            what = f"{what} [{code}]"
        if response.status_code in (404, 410):
            # Not about the token (a wrong project, say): removing devices would lose them all.
            raise Permanent(f"{what} answered HTTP {response.status_code}")
        if response.status_code == 401:
            # Our access token was refused (revoked, clock skew): fetch a new one next time.
            _forget_credentials(self.credentials_file)
            raise Temporary(f"{what} answered HTTP 401")
        _generic(response, what)

    def _access_token(self) -> str:
        with _CREDENTIALS_LOCK:
            credentials = _credentials(self.credentials_file)
            if credentials.valid:
                return credentials.token
            try:
                with _outbound_faults("FCM token exchange"):
                    credentials.refresh(self.transport)
            except google_errors.RefreshError as error:
                # Refused for good (a revoked key): dead letters, retried by staff once fixed.
                if getattr(error, "retryable", False):
                    raise Temporary("FCM token exchange failed") from None
                raise Permanent("FCM token exchange refused") from None
            except google_errors.TransportError:
                raise Temporary("FCM token exchange failed") from None
            return credentials.token


def _fcm_error_code(response: requests.Response) -> str | None:
    """FCM's error code (UNREGISTERED, INVALID_ARGUMENT, ...) from an error answer."""
    try:
        error = response.json().get("error", {})
        details = error.get("details") or []
        for detail in details:
            if isinstance(detail, dict) and detail.get("errorCode"):
                return str(detail["errorCode"])[:40]
        return str(error.get("status") or "")[:40] or None
    except (ValueError, AttributeError):
        return None


# Access tokens live about an hour: one set of credentials per file, shared by the senders of
# this process and refreshed when it runs out.
_CREDENTIALS: dict[str, tuple[int, service_account.Credentials]] = {}
_CREDENTIALS_LOCK = threading.Lock()


def _credentials(path: str) -> service_account.Credentials:
    try:
        changed = Path(path).stat().st_mtime_ns
        cached = _CREDENTIALS.get(path)
        if cached is None or cached[0] != changed:
            credentials = service_account.Credentials.from_service_account_file(
                path, scopes=[FCM_SCOPE]
            )
            _CREDENTIALS[path] = (changed, credentials)
        return _CREDENTIALS[path][1]
    except (OSError, ValueError, KeyError) as error:
        raise Permanent(f"FCM credentials cannot be read ({type(error).__name__})") from None


def _forget_credentials(path: str) -> None:
    with _CREDENTIALS_LOCK:
        _CREDENTIALS.pop(path, None)


class PushSender:
    def __init__(self, app: Flask):
        config = app.config
        self.session = outbound.session_for(app)
        self.webpush = WebPush(config, self.session) if webpush_enabled(config) else None
        self.fcm = Fcm(config, self.session) if fcm_enabled(config) else None

    def send(self, delivery: Delivery) -> None:
        device = delivery.device
        notification = delivery.notification
        if device is None:
            raise Skipped("the device was removed")
        if device.user_id != notification.user_id:
            raise Skipped("the device now belongs to another account")
        spec = kinds.KINDS.get(notification.kind)
        priority = spec.priority if spec is not None else kinds.Priority.NORMAL
        content = payload(notification)
        if device.platform == PushPlatform.WEBPUSH:
            if self.webpush is None:
                raise Permanent("Web Push is not configured (VAPID_PRIVATE_KEY, VAPID_SUBJECT)")
            self.webpush.send(device, content, URGENCY[priority])
        elif device.platform == PushPlatform.FCM:
            if self.fcm is None:
                raise Permanent("FCM is not configured (FCM_PROJECT_ID, FCM_CREDENTIALS_FILE)")
            self.fcm.send(device, content, priority)
        else:
            raise Permanent(f"unknown push platform {device.platform!r}")
        log.info("push sent", extra={"device_id": device.id, "platform": device.platform})

    def close(self) -> None:
        self.session.close()


@contextmanager
def open(app: Flask) -> Iterator[PushSender]:
    sender = PushSender(app)
    try:
        yield sender
    finally:
        sender.close()
