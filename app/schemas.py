"""Account data in and out of the API."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.passwords import MAX_LENGTH
from i18n import LOCALES, _l

#: Password length is checked by the policy, which explains itself better; this only bounds input.
PASSWORD_INPUT = validate.Length(max=MAX_LENGTH * 4)


class CityOut(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    timezone = fields.String(required=True)
    default_locale = fields.String(required=True)
    enabled_locales = fields.List(fields.String(), required=True)


class SignUpIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=PASSWORD_INPUT)
    city = fields.String(required=True, validate=validate.Length(min=1, max=64))
    display_name = fields.String(load_default="", validate=validate.Length(max=100))
    locale = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(LOCALES))


class EmailIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))


class VerifyEmailIn(EmailIn):
    code = fields.String(required=True, validate=validate.Length(min=1, max=12))


class ResetPasswordIn(VerifyEmailIn):
    new_password = fields.String(required=True, validate=PASSWORD_INPUT)


class SignInIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=PASSWORD_INPUT)
    device_name = fields.String(load_default="", validate=validate.Length(max=200))


class MeOut(Schema):
    email = fields.String(required=True)
    display_name = fields.String(required=True)
    locale = fields.String(allow_none=True, required=True)
    city = fields.Nested(CityOut, required=True)
    email_verified = fields.Function(lambda u: u.email_verified_at is not None, required=True)


class SessionOut(Schema):
    token = fields.String(
        required=True, metadata={"description": "Send as `Authorization: Bearer …`; shown once."}
    )
    expires_at = fields.AwareDateTime(required=True)
    me = fields.Nested(MeOut, required=True)


class MeUpdateIn(Schema):
    display_name = fields.String(validate=validate.Length(max=100))
    locale = fields.String(allow_none=True, validate=validate.OneOf(LOCALES))

    @validates_schema
    def _something_to_change(self, data, **_kwargs):
        if not data:
            raise ValidationError(str(_l("Send at least one field to change.")))


class PasswordChangeIn(Schema):
    current_password = fields.String(required=True, validate=PASSWORD_INPUT)
    new_password = fields.String(required=True, validate=PASSWORD_INPUT)


class TokenOut(Schema):
    id = fields.Integer(required=True)
    label = fields.String(required=True)
    kind = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    last_used_at = fields.AwareDateTime(required=True)
    expires_at = fields.AwareDateTime(required=True)
    current = fields.Boolean(required=True, metadata={"description": "The token of this request."})


class MessageOut(Schema):
    detail = fields.String(required=True)
