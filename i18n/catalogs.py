"""Gettext catalogs: extract, update, compile, and measure how complete each is."""

import io
from dataclasses import dataclass
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from i18n.locales import DEFAULT_LOCALE, LOCALES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TRANSLATIONS = HERE / "translations"
TEMPLATE = HERE / "messages.pot"
NOT_SOURCE = {"tests", "bench", "migrations", "instance", "build"}


def source_packages() -> list[str]:
    """Top-level packages of the product: every folder with an __init__.py but tests and tools."""
    return sorted(
        p.name
        for p in ROOT.iterdir()
        if (p / "__init__.py").exists() and p.name not in NOT_SOURCE and not p.name.startswith(".")
    )


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract(output: Path = TEMPLATE) -> Path:
    _pybabel(
        "extract",
        "-F",
        str(HERE / "babel.cfg"),
        "-k",
        "_l",
        "-k",
        "lazy_gettext",
        "-k",
        "_lp:1c,2",
        "--add-comments=TRANSLATORS:",
        "--no-wrap",
        "--sort-by-file",
        "--project=Living Lab",
        "-o",
        str(output),
        *(str(ROOT / p) for p in source_packages()),
    )
    # Locations would change with every edit; the strings are what matter.
    with output.open("rb") as f:
        template = read_po(f)
    for message in template:
        message.locations = []
    with output.open("wb") as f:
        write_po(f, template, width=0, omit_header=False, include_lineno=False)
    return output


def message_ids(path: Path) -> set:
    with path.open("rb") as f:
        return {(m.context, m.id) for m in read_po(f) if m.id}


def _po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def update(template: Path = TEMPLATE) -> None:
    """Merge new strings into every catalog (creating missing ones); English copies its source."""
    for locale in LOCALES:
        po = _po_path(locale)
        if po.exists():
            _pybabel(
                "update",
                "-i",
                str(template),
                "-d",
                str(TRANSLATIONS),
                "-l",
                locale,
                "--no-wrap",
                "--ignore-obsolete",
                "--no-fuzzy-matching",
                "--update-header-comment",
            )
        else:
            _pybabel(
                "init", "-i", str(template), "-d", str(TRANSLATIONS), "-l", locale, "--no-wrap"
            )
        if locale == DEFAULT_LOCALE:
            with po.open("rb") as f:
                catalog = read_po(f, locale=locale)
            for message in catalog:
                if isinstance(message.id, tuple) and not all(message.string):
                    message.string = message.id  # singular and plural as written
                elif message.id and not message.string:
                    message.string = message.id
            with po.open("wb") as f:
                write_po(f, catalog, width=0, include_lineno=False)


def compile_all(directory: Path = TRANSLATIONS) -> list[str]:
    """Write a .mo beside every .po; returns the problems found (an empty list is good)."""
    problems = []
    for locale in LOCALES:
        po = directory / locale / "LC_MESSAGES" / "messages.po"
        with po.open("rb") as f:
            catalog = read_po(f, locale=locale)
        for message, errors in catalog.check():
            problems.extend(f"{locale}: {message.id!r}: {error}" for error in errors)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        (po.parent / "messages.mo").write_bytes(buffer.getvalue())
    return problems


@dataclass
class Completeness:
    locale: str
    translated: int
    total: int
    missing: list[str]

    @property
    def percent(self) -> float:
        return 100.0 * self.translated / self.total if self.total else 100.0


def completeness(template: Path = TEMPLATE) -> list[Completeness]:
    """How many of the template's strings each catalog translates (fuzzy ones do not count)."""
    with template.open("rb") as f:
        # A context tells one English word apart by its meaning (see ``i18n._lp``).
        wanted = [(m.context, m.id) for m in read_po(f) if m.id]
    report = []
    for locale in LOCALES:
        with _po_path(locale).open("rb") as f:
            catalog = read_po(f, locale=locale)
        missing = []
        for context, msgid in wanted:
            message = catalog.get(msgid, context=context)
            strings = message.string if message else None
            strings = strings if isinstance(strings, tuple) else (strings,)
            if message is None or message.fuzzy or not all(strings):
                missing.append(msgid if isinstance(msgid, str) else msgid[0])
        report.append(Completeness(locale, len(wanted) - len(missing), len(wanted), missing))
    return report
