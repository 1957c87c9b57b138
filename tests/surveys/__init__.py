"""Tests of surveys; ``sample()`` is a definition with every question type."""

import copy


def t(text: str) -> dict:
    return {"fr": text, "en": text}


def q(key: str, kind: str, **settings) -> dict:
    return {"key": key, "type": kind, "title": t(key.title()), **settings}


def choices(*codes: str) -> list[dict]:
    return [{"value": code, "label": t(code)} for code in codes]


_SAMPLE = {
    "title": t("Heating"),
    "pages": [
        {
            "key": "home",
            "questions": [
                q("intro", "note"),
                q(
                    "heating",
                    "single_choice",
                    choices=choices("gas", "oil", "heat_pump"),
                    other=True,
                    required=True,
                ),
                q("floor", "dropdown", choices=choices(*[str(i) for i in range(20)])),
                q(
                    "uses",
                    "multiple_choice",
                    choices=choices("cook", "water", "rooms"),
                    other=True,
                    min_selections=1,
                    max_selections=2,
                ),
                q("owner", "yes_no", required=True),
                q(
                    "comfort",
                    "scale",
                    scale={"min": 1, "max": 5, "min_label": t("Cold"), "max_label": t("Warm")},
                ),
                q("stars", "rating"),
                q("rooms", "number", number={"integer": True, "min": 1, "max": 20}),
                q("temp", "number", number={"min": 10, "max": 30}),
                q("postcode", "short_text", text={"max_length": 10, "pattern": r"\d{5}"}),
                q("remarks", "long_text", text={"max_length": 50}),
                q("moved", "date", date={"min": "1950-01-01", "max": "2030-12-31"}),
                q("priorities", "ranking", choices=choices("cost", "comfort", "climate")),
                q(
                    "grid",
                    "matrix",
                    rows=[
                        {"key": "winter", "label": t("Winter")},
                        {"key": "summer", "label": t("Summer")},
                    ],
                    scale={"min": 1, "max": 3},
                ),
            ],
        },
        {
            "key": "gas",
            "show_if": {"question": "heating", "op": "equals", "value": "gas"},
            "questions": [
                q("boiler_age", "number", required=True, number={"integer": True, "min": 0}),
                q(
                    "service",
                    "yes_no",
                    required=True,
                    show_if={"question": "boiler_age", "op": "gt", "value": 10},
                ),
            ],
        },
    ],
}


def sample() -> dict:
    """A fresh copy of a definition with every question type (cleaned, as saved)."""
    return copy.deepcopy(_SAMPLE)
