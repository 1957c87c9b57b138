"""Why a connection is not fetching: the short codes stored in ``last_error`` (never a token,
a URL or a provider's answer) and what the resident is told about each."""

from i18n import _l

#: ``last_error`` codes → what the resident is told.
ERRORS = {
    "timeout": _l("The provider did not answer in time. We will try again."),
    "rate_limited": _l("The provider asked us to wait. We will try again later."),
    "provider_unavailable": _l("The provider's service is unavailable. We will try again."),
    "connection_failed": _l("The provider could not be reached. We will try again."),
    "request_failed": _l("The provider could not be reached. We will try again."),
    "answer_too_large": _l("The provider's answer could not be read. We will try again."),
    "malformed_answer": _l("The provider's answer could not be read. We will try again."),
    "unexpected_answer": _l("The provider's answer could not be read. We will try again."),
    "token_rejected": _l("The provider's answer could not be read. We will try again."),
    "token_refused": _l("The provider refused to renew our access. We will try again."),
    "refused": _l("The provider refused to send your readings. We will try again."),
    "host_not_allowed": _l("The provider's address is not one we may call."),
    "address_refused": _l("The provider's address is not one we may call."),
    "too_many_redirects": _l("The provider's address is not one we may call."),
    "authorisation_refused": _l(
        "The provider no longer accepts your authorisation. Connect your meter again."
    ),
    "authorisation_ended": _l("Your authorisation has ended. Connect your meter again."),
    "tokens_unreadable": _l("Your authorisation can no longer be used. Connect your meter again."),
    "access_denied": _l("You did not allow the provider to share your readings."),
    "authorisation_failed": _l("The provider could not complete your authorisation."),
    "token_exchange_failed": _l("The provider could not confirm your authorisation."),
    "no_usage_point": _l("The provider did not say which meter you authorised."),
    "consent_withdrawn": _l("You withdrew your energy consent: your meter was disconnected."),
    "consent_required": _l(
        "Agree to the energy feedback text again to keep receiving your readings."
    ),
}


def error_message(code: str | None) -> str | None:
    """What the resident is told about a ``last_error`` code, translated."""
    if code is None:
        return None
    return str(ERRORS.get(code, ERRORS["provider_unavailable"]))
