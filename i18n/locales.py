"""The languages of the programme, the one list every other module reads."""

#: Locale code → the language's own name (shown in pickers).
LANGUAGES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "gl": "Galego",
    "bg": "Български",
    "it": "Italiano",
    "uk": "Українська",
    "ja": "日本語",
}
LOCALES: tuple[str, ...] = tuple(LANGUAGES)
DEFAULT_LOCALE = "en"
