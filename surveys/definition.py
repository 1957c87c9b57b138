"""A survey version's definition: the structured document its questions live in.

A definition is JSON (``SurveyVersion.definition``); translated texts are maps locale → text
in the campaign's city's languages::

    {
      "title": {"fr": "…", "de": "…"},
      "introduction": {…},            # optional
      "closing": {…},                 # optional: shown after submitting
      "pages": [
        {
          "key": "home",              # stable across versions: [a-z][a-z0-9_]{0,63}
          "title": {…},               # optional
          "show_if": CONDITION,       # optional
          "questions": [
            {
              "key": "heating",       # stable across versions, unique in the survey
              "type": "single_choice",
              "title": {…},
              "help": {…},            # optional
              "required": true,
              "show_if": CONDITION,   # optional
              …type-specific settings, below
            }
          ]
        }
      ]
    }

Question types and their settings:

- ``single_choice``, ``dropdown``: ``choices`` [{"value": code, "label": {…}}], ``other``
  (bool: "other, please specify").
- ``multiple_choice``: the same, plus ``min_selections`` / ``max_selections``.
- ``yes_no``: nothing more.
- ``scale`` (Likert): ``scale`` {"min": 1, "max": 5, "min_label": {…}, "max_label": {…}}.
- ``rating``: ``scale`` {"min": 1, "max": 5} (stars).
- ``number``: ``number`` {"integer": bool, "min": x, "max": y} (each optional).
- ``short_text``, ``long_text``: ``text`` {"max_length": n, "pattern": regex} (optional;
  the pattern only for short texts).
- ``date``: ``date`` {"min": "YYYY-MM-DD", "max": "YYYY-MM-DD"} (optional).
- ``ranking``: ``choices`` to put in order.
- ``matrix``: ``rows`` [{"key": code, "label": {…}}] rated on one ``scale``.
- ``note``: text shown between questions; no answer.

A choice keeps its ``value`` when its label is reworded in a later version, so results add
up across versions.

Conditions (``show_if``) are data, evaluated by surveys/logic.py, never by ``eval``::

    {"question": "heating", "op": "equals", "value": "gas"}
    ops: equals, not_equals, any_of (value: list), gt, lt (numbers), answered, not_answered
    {"all": [CONDITION, …]}   {"any": [CONDITION, …]}

A condition may only refer to questions that come before the one it guards (earlier on the
same page, or on an earlier page; a page's condition to questions of earlier pages).

Answers (``SurveyResponse.answers``) map question keys to values: a choice code (single,
dropdown), a list of codes (multiple; ranking, in order), true/false (yes/no), a number
(scale, rating, number), a string (texts; dates as YYYY-MM-DD), an object row key → number
(matrix). "Other, please specify" is the code ``other`` with the text under ``<key>.other``.

This module holds the format: its names, limits and lengths, a new survey's blank definition and
``localized`` (a definition's texts resolved for one reader). surveys/definition_check.py checks
a definition against it before it is saved.
"""

import re

from i18n.content import cleaned, pick

#: Page and question keys; choice values and matrix row keys (may start with a digit).
KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
CODE = re.compile(r"[a-z0-9][a-z0-9_]{0,63}")
#: The choice code of "other, please specify": no listed choice may use it.
OTHER = "other"

TYPES = (
    "single_choice",
    "dropdown",
    "multiple_choice",
    "yes_no",
    "scale",
    "rating",
    "number",
    "short_text",
    "long_text",
    "date",
    "ranking",
    "matrix",
    "note",
)
#: Settings each type takes besides the common ones.
SETTINGS = {
    "single_choice": {"choices", "other"},
    "dropdown": {"choices", "other"},
    "multiple_choice": {"choices", "other", "min_selections", "max_selections"},
    "yes_no": set(),
    "scale": {"scale"},
    "rating": {"scale"},
    "number": {"number"},
    "short_text": {"text"},
    "long_text": {"text"},
    "date": {"date"},
    "ranking": {"choices"},
    "matrix": {"rows", "scale"},
    "note": set(),
}
COMMON = {"key", "type", "title", "help", "required", "show_if"}

MAX_PAGES = 50
MAX_QUESTIONS = 200
MAX_CHOICES = 300
MAX_ROWS = 50
MAX_SCALE_POINTS = 11
SCALE_BOUND = 100
NUMBER_BOUND = 1e12
#: Default and largest answer lengths.
TEXT_LENGTH = {"short_text": 500, "long_text": 10_000}
MAX_TEXT_LENGTH = 10_000
MAX_PATTERN = 200
#: Longest translated texts, per field.
LENGTHS = {
    "survey": 200,
    "introduction": 5000,
    "closing": 5000,
    "page": 200,
    "question": 500,
    "help": 2000,
    "label": 200,
    "scale_label": 100,
}
DEFAULT_SCALE = {"min": 1, "max": 5}


def blank_definition(title: dict) -> dict:
    """A new survey's first definition: its title and one empty page."""
    return {"title": cleaned(title), "pages": [{"key": "page_1", "questions": []}]}


#: Translated fields of each part of a definition.
_TEXTS = {
    "survey": ("title", "introduction", "closing"),
    "page": ("title",),
    "question": ("title", "help"),
    "choice": ("label",),
    "scale": ("min_label", "max_label"),
}


def localized(definition: dict, locale: str, fallback: str) -> dict:
    """The definition with every translated text resolved for one reader (requested locale →
    ``fallback``, the city's default → any), for the API.

    Texts become plain strings (an optional text with no translation is left out) and a
    top-level ``locales`` lists the languages the texts came in, requested one first if used:
    more than one means some texts fell back.
    """
    used: set[str] = set()

    def resolve(part: dict, kind: str) -> dict:
        result = dict(part)
        for field in _TEXTS[kind]:
            if field not in part:
                continue
            text, language = pick(part[field], locale, fallback)
            if language:
                used.add(language)
            if text or field in ("title", "label"):
                result[field] = text
            else:
                result.pop(field)
        return result

    result = resolve(definition, "survey")
    result["pages"] = []
    for page in definition.get("pages", []):
        page_result = resolve(page, "page")
        page_result["questions"] = []
        for question in page.get("questions", []):
            q = resolve(question, "question")
            for field in ("choices", "rows"):
                if field in q:
                    q[field] = [resolve(item, "choice") for item in q[field]]
            if "scale" in q:
                q["scale"] = resolve(q["scale"], "scale")
            page_result["questions"].append(q)
        result["pages"].append(page_result)
    result["locales"] = sorted(used, key=lambda code: (code != locale, code))
    return result
