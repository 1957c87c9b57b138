"""Free text before a research export: addresses, links, account and phone numbers and the
city's users' names go; dates, prices, postcodes and ordinary words that look like them stay."""

import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.models import Role
from research.scrub import Scrubber, city_scrubber, is_iban

CORPUS = json.loads((Path(__file__).parent / "scrub_corpus.json").read_text("utf-8"))
USERS = CORPUS["users"]


def corpus_scrubber() -> Scrubber:
    return Scrubber(
        [u["display_name"] for u in USERS],
        nicknames=[u["email"].partition("@")[0] for u in USERS],
    )


def remains(seeded: str, text: str) -> bool:
    """Whether ``seeded`` is still in ``text``: as a word, or anywhere if it is Japanese (a
    look-alike such as "Hubertusweg" is no trace of "Huber")."""
    if re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", seeded):
        return seeded in text
    return re.search(rf"(?<!\w){re.escape(seeded)}(?!\w)", text, re.IGNORECASE) is not None


def scrubbed(text: str, names=(), nicknames=()) -> str:
    return Scrubber(names, nicknames)(text)


# --- the corpus ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    CORPUS["cases"],
    ids=[f"{c['lang']}-{i}" for i, c in enumerate(CORPUS["cases"])],
)
def test_the_corpus_is_scrubbed_as_expected(case):
    scrub = corpus_scrubber()
    out = scrub(case["text"])
    assert out == case["expected"]
    assert [seeded for seeded in case["pii"] if remains(seeded, out)] == []
    assert scrub(out) == out


def test_the_corpus_covers_the_programme_s_languages():
    langs = {case["lang"] for case in CORPUS["cases"]}
    assert langs == {"en", "de", "fr", "es", "gl", "bg", "it", "uk", "ja"}
    assert len(CORPUS["cases"]) >= 40


def test_no_seeded_pii_string_remains_anywhere_in_the_scrubbed_corpus():
    scrub = corpus_scrubber()
    everything = "\n".join(scrub(case["text"]) for case in CORPUS["cases"])
    seeded = {p for case in CORPUS["cases"] for p in case["pii"]}
    seeded |= {u["display_name"] for u in USERS} | {u["email"] for u in USERS}
    assert [s for s in seeded if remains(s, everything)] == []
    # Every kind was met, and counted.
    assert set(scrub.counts) == {"email", "url", "iban", "phone", "name"}


# --- e-mail addresses and URLs -------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "anna.huber77@example.org",
        "anna+bike@mail.example.co.uk",
        "jürgen.müller@bücher.de",
        "иван@пример.бг",  # noqa: RUF001
        "olena@xn--80ak6aa92e.com",
        "ANNA_HUBER@EXAMPLE.ORG",
    ],
)
def test_e_mail_addresses_of_any_script_are_scrubbed(address):
    assert scrubbed(f"Kontakt: {address}, danke.") == "Kontakt: [email], danke."


def test_an_address_spelt_out_in_words_is_out_of_scope():
    # Documented limit: "at" and "dot" in words are not read as an address.
    text = "write to anna at example dot com"
    assert scrubbed(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see https://example.org/a?b=1&c=2.", "see [url]."),
        ("see http://example.org", "see [url]"),
        ("(www.wien.gv.at)", "([url])"),
        ("example.org/abc", "[url]"),
        ("unter stadt-wien.at!", "unter [url]!"),
        ("on mysite.example/path/x", "on [url]"),
        ("https://de.wikipedia.org/wiki/Passivhaus_(Begriff) ok", "[url] ok"),
        ("詳細はhttps://example.jp/bikeを", "詳細は[url]を"),
    ],
)
def test_urls_are_scrubbed(text, expected):
    assert scrubbed(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "z.B. die Fenster",
        "e.g. the windows",
        "i.e. it works",
        "Faktor 1.5 besser",
        "Nr. 7 und Str.5",
        "d.h. kaputt.Es geht nicht",
        "Version 2.0 der App",
        "ca. 20 cm, u.a. im Bad",
        "report.pdf attached",
    ],
)
def test_words_with_dots_are_not_urls(text):
    assert scrubbed(text) == text


# --- IBANs ---------------------------------------------------------------------------------

VALID_IBANS = [
    "DE89 3704 0044 0532 0130 00",
    "AT61 1904 3002 3457 3201",
    "FR14 2004 1010 0505 0001 3M02 606",
    "ES91 2100 0418 4502 0005 1332",
    "IT60 X054 2811 1010 0000 0123 456",
    "BG80 BNBG 9661 1020 3456 78",
    "UA21 3223 1300 0002 6007 2335 6600 1",
    "GB82 WEST 1234 5698 7654 32",
]


@pytest.mark.parametrize("iban", VALID_IBANS)
def test_ibans_of_any_country_are_scrubbed_with_or_without_spaces(iban):
    assert is_iban(iban)
    assert scrubbed(f"IBAN: {iban}.") == "IBAN: [iban]."
    assert scrubbed(f"IBAN: {iban.replace(' ', '')}.") == "IBAN: [iban]."
    assert scrubbed(f"IBAN {iban.lower()} euro") == "IBAN [iban] euro"


@pytest.mark.parametrize(
    "reference",
    ["DE12 3456 7890 1234 5678 90", "AT12 3456 7890 1234 5678", "GB12ABCD12345678901234"],
)
def test_a_reference_number_that_fails_the_checksum_is_kept(reference):
    assert not is_iban(reference)
    text = f"Bestellung {reference} bezahlt"
    assert scrubbed(text) == text


# --- phone numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "+43 1 234 5678",
        "0043 664 1234567",
        "0664/1234567",
        "(030) 12345678",
        "(0)30 1234 5678",
        "06 12 34 56 78",
        "06.12.34.56.78",
        "090-1234-5678",
        "+380 44 123 4567",
        "+33 (0)6 12 34 56 78",
        "612 34 56 78",
        "347 123 4567",
        "0888 123 456",
    ],
)
def test_phone_numbers_are_scrubbed(number):
    assert scrubbed(f"Tel. {number}, abends.") == "Tel. [phone], abends."
    assert scrubbed(f"電話は{number}です") == "電話は[phone]です"


@pytest.mark.parametrize(
    "text",
    [
        "Seit 2026 heizen wir mit Wärmepumpe.",
        "Termin am 12.03.2026 um 14:30.",
        "Am 2026-03-12T14:30 kam der Techniker, am 12/03/2026 wieder.",
        "1020 Wien, Praterstraße 12",
        "Kosten 1.051,20 € pro Jahr, Zuschuss 12.345.678,90 €.",
        "Einsparung 12,5 % oder 45 %.",
        "Wir sind 3 Personen auf 85 m² im 4. Stock.",
        "Sprechstunde 10.30-12.00 Uhr, 8:00-17:00",
        "von 2019-2026, also 2019 2020 2021 2022",
        "1 250 000 habitants, 250 000 000 €",
        "Zählerstand 1234567 kWh",
        "Vertragsnummer 4711 0815",
        "Vertrag VK123 4567 8901 23",
        "郵便番号は100-0001です",
        "Faktor 0,5 und 123456",
    ],
)
def test_numbers_that_are_not_phones_are_kept(text):
    assert scrubbed(text) == text


# --- names ---------------------------------------------------------------------------------


def test_full_names_and_their_distinctive_parts_are_scrubbed():
    names = ["Anna Huber"]
    assert scrubbed("Anna Huber hat recht.", names) == "[name] hat recht."
    assert scrubbed("Frag Huber oder Anna.", names) == "Frag [name] oder [name]."
    # Case-insensitive, on word boundaries, across line breaks and without accents.
    assert scrubbed("ANNA\nHUBER und anna-huber", names) == "[name] und [name]"
    assert scrubbed("Hubertus und Annaberg", names) == "Hubertus und Annaberg"
    assert scrubbed("Jean's jeans", ["Jean Li"]) == "[name]'s jeans"
    assert scrubbed("Hubers Fenster, Anna's bike", names) == "[name] Fenster, [name]'s bike"
    assert scrubbed("Lucia Fernandez", ["Lucía Fernández"]) == "[name]"


def test_name_parts_that_are_common_words_or_short_are_kept_alone():
    names = ["Rosa Blanco", "Li Na", "Mark Will", "Pierre Martin"]
    assert scrubbed("Rosa Blanco malt rosa.", names) == "[name] malt rosa."
    assert scrubbed("el coche blanco", names) == "el coche blanco"
    assert scrubbed("Li Na said li", names) == "[name] said li"
    assert scrubbed("we will mark it", names) == "we will mark it"
    assert scrubbed("la pierre de Martin", names) == "la pierre de [name]"


def test_hyphenated_and_single_word_display_names():
    names = ["Marie-Claire Dupont", "Sonnenschein", "Al"]
    assert scrubbed("Marie-Claire a raison", names) == "[name] a raison"
    assert scrubbed("Claire et Marie", names) == "Claire et [name]"
    assert scrubbed("Sonnenschein schreibt", names) == "[name] schreibt"
    assert scrubbed("Al and Alan", names) == "Al and Alan"


def test_cyrillic_names_are_matched_in_their_case_forms():
    names = ["Олена Коваленко", "Іван Петренко"]
    text = "Дякуємо Олені, Іванові Петренку та пану Коваленку."
    assert scrubbed(text, names) == "Дякуємо [name], [name] [name] та пану [name]."
    assert scrubbed("олениця й Іванівка", names) == "олениця й Іванівка"


def test_japanese_names_are_matched_as_substrings():
    names = ["山田太郎", "佐藤 花子"]
    assert scrubbed("山田太郎が来た", names) == "[name]が来た"
    assert scrubbed("佐藤花子と佐藤 花子", names) == "[name]と[name]"
    # A part alone only before an honorific: two kanji are often an ordinary word.
    assert scrubbed("佐藤さんと花子ちゃん", names) == "[name]さんと[name]ちゃん"
    assert scrubbed("砂糖と佐藤の話", names) == "砂糖と佐藤の話"


def test_nicknames_from_e_mail_addresses_are_scrubbed_as_words():
    scrub = Scrubber(["Kim Martin"], nicknames=["kim.martin77", "info", "12345"])
    assert scrub("kim.martin77 postet") == "[name] postet"
    assert scrub("mehr info unter 12345") == "mehr info unter 12345"


# --- the scrubber as a whole ---------------------------------------------------------------


def test_counts_are_kept_per_kind():
    scrub = Scrubber(["Anna Huber"])
    scrub("Anna: anna@example.org, 0664/1234567, https://x.example/a")
    scrub("AT61 1904 3002 3457 3201 und Huber")
    assert scrub.counts == {"name": 2, "email": 1, "phone": 1, "url": 1, "iban": 1}


def test_nothing_and_empty_text_stay_as_they_are():
    scrub = Scrubber([])
    assert scrub(None) is None
    assert scrub("") == ""


FRAGMENTS = [
    "Anna",
    "Huber",
    "Anna Huber",
    "anna.huber77",
    "山田",
    "さん",
    "山田太郎",
    "Олена",
    "Оленою",
    "anna@example.org",
    "www.example.org/x",
    "example.org",
    "0664/1234567",
    "+43 1 234 5678",
    "12.03.2026",
    "DE89 3704 0044 0532 0130 00",
    "1.051,20 €",
    "[name]",
    "[phone]",
    " ",
    ".",
    "-",
    "/",
    "@",
    "(",
    ")",
    "\n",
    "0",
    "12",
]


@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6), max_size=12).map("".join))
def test_scrubbing_is_idempotent(text):
    scrub = Scrubber(["Anna Huber", "山田太郎", "Олена Коваленко"], nicknames=["anna.huber77"])
    once = scrub(text)
    counts = dict(scrub.counts)
    assert scrub(once) == once
    assert dict(scrub.counts) == counts


FIRST_NAMES = [
    *["Anna", "Lukas", "Marie", "Jonas", "Sophie", "Elias", "Clara", "Noah", "Julia", "Louis"],
    *["Camille", "Hugo", "Léa", "Lucía", "Pablo", "Carmen", "Xoán", "Uxía", "Giulia", "Marco"],
    *["Chiara", "Luca", "Иван", "Мария", "Георги", "Елена", "Олена", "Андрій", "Оксана"],
    *["Тарас", "Yuki", "Haruto", "Emma", "Oliver", "Amelia", "Jack", "Isla", "Thomas"],  # noqa: RUF001
    *["Chloé", "Mateo", "Valentina", "Nikolai", "Dimitar", "Petya", "Sofiia", "Bohdan"],
    *["Iryna", "Kenji", "Aiko", "Miguel"],
]
SURNAMES = [
    *["Huber", "Gruber", "Wagner", "Dubois", "Lefèvre", "Fernández", "García", "Castro"],
    *["Otero", "Rossi", "Bianchi", "Petrov", "Георгиев", "Коваленко", "Шевчук", "Tanaka"],
    *["Suzuki", "Smith", "Okafor", "Nowak"],
]
SECOND_SURNAMES = ["Moreau", "Ricci", "Lozano", "Pereira", "Varela", "Iliev", "Бондар", "Sato"]
SECOND_SURNAMES += ["Walsh", "Kowalski"]


def test_a_city_of_ten_thousand_users_scrubs_a_thousand_texts():
    # One matcher for the city: building it for 10,000 names and scrubbing 1,000 texts takes
    # well under a second.
    names = [
        f"{first} {last} {second}"
        for first in FIRST_NAMES
        for last in SURNAMES
        for second in SECOND_SURNAMES
    ]
    assert len(set(names)) == 10_000
    scrub = Scrubber(names, nicknames=[n.lower().replace(" ", ".") for n in names])
    rng = random.Random(8)
    texts = [case["text"] for case in CORPUS["cases"]]
    for _ in range(1_000):
        name = rng.choice(names)
        out = scrub(f"{rng.choice(texts)} {name} meint: {rng.choice(texts)}")
        assert not remains(name, out)
        assert [part for part in name.split() if remains(part, out)] == []
    assert scrub.counts["name"] >= 1_000


# --- the city's users ----------------------------------------------------------------------


def test_the_city_scrubber_knows_the_city_s_residents_and_role_holders(
    db_session, lyon, vienna, make_user
):
    resident = make_user(lyon, email="kim.martin77@example.org")
    resident.display_name = "Kim Martinelli"
    moderator = make_user(
        vienna, email="zoe.autre@example.org", role=Role.MODERATOR, role_city=lyon
    )
    outsider = make_user(vienna, email="franz.gruber@example.org")
    db_session.flush()
    assert moderator.city_id == outsider.city_id == vienna.id

    scrub = city_scrubber(db_session, lyon.id)
    text = "Kim Martinelli (kim.martin77) und Zoe Autre helfen, Franz Gruber nicht."
    assert scrub(text) == "[name] ([name]) und [name] helfen, Franz Gruber nicht."
    assert scrub.counts["name"] == 3
