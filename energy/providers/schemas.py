"""Provider connections as residents' phones ask for them and see them.

Outputs never hold a token or the whole usage point: only its last four digits, enough for
the resident to recognise their meter.
"""

from marshmallow import Schema, fields, validate

from energy.models import ConnectionStatus
from energy.providers import CONNECTORS


class ProviderConnectionIn(Schema):
    provider = fields.String(
        required=True,
        validate=validate.OneOf(sorted(CONNECTORS)),
        metadata={"description": "The meter data provider to connect the meter to."},
    )


class ConnectionErrorOut(Schema):
    code = fields.String(
        required=True,
        metadata={"description": "Stable: `timeout`, `rate_limited`, `authorisation_refused`…"},
    )
    message = fields.String(required=True, metadata={"description": "Translated."})


class ProviderConnectionOut(Schema):
    provider = fields.String(required=True)
    status = fields.String(
        required=True,
        validate=validate.OneOf([status.value for status in ConnectionStatus]),
        metadata={
            "description": "`pending`: waiting for my authorisation at the provider; "
            "`active`: readings are fetched daily; `expired`: the provider no longer accepts "
            "the authorisation (connect again); `revoked`: disconnected, or refused."
        },
    )
    usage_point = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The provider's id of my meter, all but its last 4 digits hidden."
        },
    )
    authorised_until = fields.Date(required=True, allow_none=True)
    fetched_until = fields.Date(
        required=True,
        allow_none=True,
        metadata={"description": "Readings are fetched up to this local day (exclusive)."},
    )
    last_attempt_at = fields.AwareDateTime(required=True, allow_none=True)
    failures = fields.Integer(
        required=True, metadata={"description": "Refreshes that failed since the last success."}
    )
    last_error = fields.Nested(ConnectionErrorOut, required=True, allow_none=True)
    created_at = fields.AwareDateTime(required=True)


class AuthorisationOut(Schema):
    authorize_url = fields.String(
        required=True,
        metadata={"description": "Open in a browser: the provider's page where I authorise."},
    )
    expires_at = fields.AwareDateTime(
        required=True, metadata={"description": "The link works once, until then."}
    )
    connection = fields.Nested(ProviderConnectionOut, required=True)
