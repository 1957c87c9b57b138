"""My devices for push notifications: what to subscribe with, registering, listing, removing."""

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from app.extensions import db
from app.throttle import device_limits
from client_api.core import Blueprint, signed_in
from client_api.idempotency import idempotent, not_replayed
from notifications import devices
from notifications.models import PushPlatform
from notifications.outbound import MAX_URL_LENGTH

blp = Blueprint("push", __name__, description="Push notifications to my phones and browsers.")


class PushConfigOut(Schema):
    webpush_public_key = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "VAPID application server key (base64url) to subscribe with; "
            "null when Web Push is not available."
        },
    )
    fcm = fields.Boolean(required=True, metadata={"description": "Whether FCM is available."})


class SubscriptionKeysIn(Schema):
    p256dh = fields.String(required=True, validate=validate.Length(max=200))
    auth = fields.String(required=True, validate=validate.Length(max=100))


class PushDeviceIn(Schema):
    platform = fields.String(
        required=True, validate=validate.OneOf([p.value for p in PushPlatform])
    )
    endpoint = fields.String(
        validate=validate.Length(max=MAX_URL_LENGTH),
        metadata={"description": "Web Push: the subscription's endpoint (https)."},
    )
    keys = fields.Nested(
        SubscriptionKeysIn, metadata={"description": "Web Push: the subscription's keys."}
    )
    token = fields.String(
        validate=validate.Length(max=devices.MAX_TOKEN_LENGTH),
        metadata={"description": "FCM: the registration token."},
    )
    label = fields.String(
        validate=validate.Length(max=devices.MAX_LABEL_LENGTH),
        metadata={"description": "How I name this device, e.g. “Kim's phone”."},
    )


class PushDeviceOut(Schema):
    id = fields.Integer(required=True)
    platform = fields.String(required=True)
    label = fields.String(required=True)
    address_hint = fields.Function(
        devices.address_hint,
        required=True,
        metadata={"description": "The push service's host, or the token's last characters."},
    )
    created_at = fields.AwareDateTime(required=True)
    last_success_at = fields.AwareDateTime(required=True, allow_none=True)


@blp.route("/push/config", endpoint="push_config")
class PushConfig(MethodView):
    @signed_in
    @blp.response(200, PushConfigOut)
    def get(self):
        """What my app needs to subscribe to push notifications here."""
        return devices.push_settings()


@blp.route("/push-devices", endpoint="push_devices")
class PushDevices(MethodView):
    # A replayed idempotent answer registers nothing, so it does not count.
    decorators = device_limits(deduct_when=not_replayed)

    @signed_in
    @blp.response(200, PushDeviceOut(many=True))
    def get(self):
        """My devices that receive push notifications."""
        return devices.list_devices(db.session, g.user)

    @signed_in
    @idempotent
    @blp.arguments(PushDeviceIn)
    @blp.response(201, PushDeviceOut)
    @blp.alt_response(200, schema=PushDeviceOut, description="The device was already registered.")
    def post(self, data):
        """Register this device for push notifications (again: refreshes it, answers 200).

        A device registered by another account (a shared phone) moves to mine. I keep at most
        20 devices; one more forgets the one heard from least recently.
        """
        device, created = devices.register_device(db.session, g.user, **data)
        return device, 201 if created else 200


@blp.route("/push-devices/<int:device_id>", endpoint="remove_push_device")
class PushDevice(MethodView):
    @signed_in
    @blp.response(204)
    def delete(self, device_id):
        """Stop push notifications to one of my devices."""
        devices.remove_device(db.session, g.user, device_id)
        db.session.commit()
