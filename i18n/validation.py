"""Marshmallow's and webargs' English validation messages, translated when a problem is written.

The libraries format their messages before we see them ("Longer than maximum length 100."),
so each known template is matched back and the translation formatted with the same values.
"""

import re
from functools import cache

from flask_babel import LazyString

from i18n import _l

#: The library's English template → our translatable text with the same placeholders.
MESSAGES: list[tuple[str, LazyString]] = [
    ("Missing data for required field.", _l("This field is required.")),
    ("Field may not be null.", _l("This field may not be empty.")),
    ("Invalid value.", _l("Invalid value.")),
    ("Unknown field.", _l("Unknown field.")),
    ("Invalid input type.", _l("Invalid input type.")),
    ("Invalid type.", _l("Invalid input type.")),
    ("Not a valid string.", _l("Not a valid text.")),
    ("Not a valid utf-8 string.", _l("Not a valid text.")),
    ("Not a valid integer.", _l("Not a valid whole number.")),
    ("Not a valid number.", _l("Not a valid number.")),
    ("Number too large.", _l("Number too large.")),
    ("Special numeric values (nan or infinity) are not permitted.", _l("Not a valid number.")),
    ("Not a valid boolean.", _l("Not a valid yes/no value.")),
    ("Not a valid datetime.", _l("Not a valid date and time.")),
    ("Not a valid aware datetime.", _l("Not a valid date and time with a time-zone offset.")),
    ("Not a valid date.", _l("Not a valid date.")),
    ("Not a valid email address.", _l("Not a valid email address.")),
    ("Not a valid URL.", _l("Not a valid web address.")),
    ("Not a valid UUID.", _l("Not a valid UUID.")),
    ("Not a valid list.", _l("Not a valid list.")),
    ("Not a valid mapping type.", _l("Not a valid object.")),
    ("Must be one of: {choices}.", _l("Must be one of: {choices}.")),
    ("Shorter than minimum length {min}.", _l("Shorter than the minimum length of {min}.")),
    ("Longer than maximum length {max}.", _l("Longer than the maximum length of {max}.")),
    ("Length must be between {min} and {max}.", _l("Length must be between {min} and {max}.")),
    ("Length must be {equal}.", _l("Length must be {equal}.")),
    ("Must be greater than or equal to {min}.", _l("Must be at least {min}.")),
    ("Must be less than or equal to {max}.", _l("Must be at most {max}.")),
    (
        "Must be greater than or equal to {min} and less than or equal to {max}.",
        _l("Must be between {min} and {max}."),
    ),
    ("String does not match expected pattern.", _l("Does not have the expected form.")),
    ("Invalid JSON body.", _l("The request body is not valid JSON.")),
]


@cache
def _patterns() -> list[tuple[re.Pattern, LazyString]]:
    compiled = []
    for template, translation in MESSAGES:
        parts = re.split(r"\{(\w+)\}", template)
        regex = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
        )
        compiled.append((re.compile(f"^{regex}$", re.DOTALL), translation))
    return compiled


def translate_message(message: str) -> str:
    """The translation of a library message, or the message itself when it is already ours."""
    for pattern, translation in _patterns():
        match = pattern.match(message)
        if match:
            return str(translation).format(**match.groupdict())
    return message


def translate_errors(errors):
    """Translate every message in a (nested) marshmallow error structure."""
    if isinstance(errors, dict):
        return {str(k): translate_errors(v) for k, v in errors.items()}
    if isinstance(errors, list | tuple):
        return [translate_errors(e) for e in errors]
    return translate_message(str(errors))
