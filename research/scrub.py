"""Free text cleared of what points at a person before it leaves for a research export.

E-mail addresses, URLs, IBANs, phone numbers and the names of the city's registered users are
replaced by fixed tokens in square brackets (``[email]``, ``[url]``, ``[iban]``, ``[phone]``,
``[name]``), the same in every language, so researchers can count them. The passes run in
that order: an address holds a domain a URL pass would take, a URL or an IBAN holds digits a
phone pass would take. Scrubbing scrubbed text changes nothing.

Out of scope: addresses spelt out to dodge robots ("anna at example dot com"), numbers in
words, and names of people who are not users of the city (a neighbour, a landlord).
"""

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import RoleGrant, User
from research.scrub_words import COMMON_WORDS

EMAIL, URL, IBAN, PHONE, NAME = "email", "url", "iban", "phone", "name"


def _token(kind: str) -> str:
    return f"[{kind}]"


# Han, kana and full-width forms: scripts written without spaces between words.
_CJK = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
# A letter or digit of a script that does put spaces between words: what an address, a number
# or a name must not touch. Japanese text runs straight into them ("電話は090-1234-5678です").
_W = rf"[^\W{_CJK}]"

# --- e-mail addresses and URLs -----------------------------------------------------------

# Letters of any script in the local part and the domain (IDN); a TLD of letters or punycode.
# Japanese text runs into an address ("メールはanna@example.jp"): the local part starts after
# the Han and kana, unless it ends in them (then the whole run goes: nothing tells where the
# address begins).
_LABEL = r"[^\W_](?:[\w-]{0,62}[^\W_])?"
# Local parts are at most 64 characters: a bound that keeps long runs of dotted words cheap.
_LOCAL = rf"(?:{_W}|[%+-])(?:{_W}|[%+.-]){{0,63}}"
_EMAIL = re.compile(
    rf"(?:(?<!{_W})(?<!{_W}[%+.-]){_LOCAL}|(?<![\w%+.-])[\w%+.-]{{0,63}}[{_CJK}])"
    rf"@(?:{_LABEL}\.)+(?:xn--[a-z0-9-]+|[^\W\d_{_CJK}]{{2,63}})(?!{_W})(?!-)"
)

#: Top-level domains a bare "name.tld" is taken for, with no scheme and no path. Only in lower
#: case, so a missing space after a full stop ("kaputt.Es geht") is not mistaken for one.
_KNOWN_TLDS = (
    "com|org|net|edu|gov|info|biz|eu|de|at|ch|fr|es|it|bg|ua|jp|uk|be|nl|lu|pt|pl|cz|gal|cat"
    "|eus|io|app|dev|online|shop|wien|berlin|paris|рф|укр|бг"  # noqa: RUF001
)
_URL_CHARS = rf"[^\s<>\"{_CJK}、。]"
# A bare domain's labels in a script with spaces, so one does not start inside Japanese text.
_BARE_LABEL = rf"[^\W_{_CJK}](?:[^\W{_CJK}]|-){{0,63}}"
_URL = re.compile(
    rf"(?<!{_W})(?i:(?:https?|ftp)://|www\d?\.){_URL_CHARS}+"
    rf"|(?<!{_W})(?<![@./-])(?:{_BARE_LABEL}\.)+(?:{_KNOWN_TLDS})(?!{_W})(?!-)(?:/{_URL_CHARS}*)?"
    # Any other TLD only with a path: "z.B.", "e.g." and "Nr. 7" have none.
    rf"|(?<!{_W})(?<![@./-])(?:{_BARE_LABEL}\.)+[^\W\d_{_CJK}]{{2,63}}/{_URL_CHARS}*"
)
_MAYBE_URL = re.compile(r"\.[^\W\d_]|://|(?i:www\d?\.)")
_URL_TRAILING = ".,;:!?'\"»”’…)]}"  # noqa: RUF001

# --- IBANs ---------------------------------------------------------------------------------

# Country, check digits, then the account in groups of four (spaced or not); a candidate may
# run into a following word, so shorter ones are tried until the checksum holds.
_IBAN_SHAPE = rf"(?<!{_W})[A-Z]{{2}}\d{{2}}(?: ?[A-Z0-9]{{4}}){{2,7}}(?: ?[A-Z0-9]{{1,4}})?(?!{_W})"
_IBAN = re.compile(_IBAN_SHAPE, re.IGNORECASE)


def is_iban(candidate: str) -> bool:
    """Whether ``candidate`` (spaces allowed) is an IBAN by length and ISO 13616 checksum."""
    compact = candidate.replace(" ", "").upper()
    if not (15 <= len(compact) <= 34 and compact[:2].isalpha() and compact[2:4].isdigit()):
        return False
    if not compact.isascii() or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


# --- phone numbers -------------------------------------------------------------------------

_DIGIT = re.compile(r"\d")
# Dates and what is shaped like an IBAN but failed its checksum (an order reference) come first
# in the alternation, so the scan steps over them: "12.03.2026" is no phone.
_DATE = r"(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})|\d{4}[./-]\d{1,2}[./-]\d{1,2})(?![./-]?\d)"
_PHONE = re.compile(
    rf"(?P<date>(?<!\d){_DATE})|(?P<code>(?i:{_IBAN_SHAPE}))"
    rf"|(?P<phone>(?<!{_W})(?<![+])(?<!\d[.,])(?:\+[ \t]?|\(\+?)?\d{{1,15}}"
    r"(?:(?:\)[ \t]?[-/]?[ \t]?|[ \t]?[-./][ \t]?|[ \t]\(?|\()\d{1,10})*"
    rf"(?!{_W})(?![.,]?\d))"
)
_DATE_INSIDE = re.compile(rf"(?<=[ \t]){_DATE}")
_TIME_RANGE = re.compile(r"\d{1,2}[.:]\d{2}[ \t]?-[ \t]?\d{1,2}[.:]\d{2}")
_AMOUNT_AFTER = re.compile(
    r"[ \t\u00a0]?(?:%|‰|€|\$|£|¥|円|₴|лв|грн|(?:eur|euro|euros|kwh|mwh|gwh|wh|kw|mw|m²|m2|m³"
    r"|m3|km|kg|uah|bgn|yen|jpy)\b)",
    re.IGNORECASE,
)
_AMOUNT_BEFORE = re.compile(r"(?:€|\$|£|¥|₴|eur|chf)[ \t\u00a0]?$", re.IGNORECASE)
# A code of letters and digits just before: the digits are the rest of a reference number
# ("VK123 4567 8901 23"), not a phone number.
_CODE_BEFORE = re.compile(r"[^\W\d_]\w*\d[ \t]$")


def _is_phone(candidate: str, before: str, after: str) -> bool:
    """Whether a run of digit groups is shaped like a phone number rather than an amount,
    a year, a postcode, a time range or a plain count.

    It needs 7 to 15 digits and one of: a leading ``+`` or ``00`` (international), an area
    code in brackets, a leading ``0`` (the trunk prefix in most of the programme's countries,
    so also "0664/1234567"), or at least three groups of 2 to 4 digits ("612 34 56 78").
    Groups of three after a short first one are thousands ("1 234 567", "12.345.678").
    """
    groups = re.findall(r"\d+", candidate)
    digits = "".join(groups)
    if not 7 <= len(digits) <= 15:
        return False
    if _AMOUNT_AFTER.match(after) or _AMOUNT_BEFORE.search(before) or _CODE_BEFORE.search(before):
        return False
    if candidate.startswith("+"):
        return len(digits) >= 8
    if "(" in candidate or ")" in candidate:
        return bool(re.fullmatch(r"\(\+?\d{1,5}\)[^()]*", candidate))
    if _TIME_RANGE.fullmatch(candidate):
        return False
    if all(len(g) == 4 and g[:2] in ("19", "20") for g in groups):
        return False
    if digits.startswith("0"):
        return len(digits) >= 8 if digits.startswith("00") else True
    rest = groups[1:]
    thousands = rest and len(groups[0]) <= 3 and all(len(g) == 3 for g in rest)
    if thousands and ("." in candidate or "," in candidate or len(groups[0]) < 3):
        return False
    return len(groups) >= 3 and len(groups[0]) <= 4 and all(2 <= len(g) <= 4 for g in rest)


# --- names ---------------------------------------------------------------------------------


#: Japanese honorifics: a family or given name alone is a name when one of these follows.
_HONORIFICS = ("さん", "さま", "様", "くん", "君", "ちゃん", "氏", "先生", "殿")

# Words for matching: letters and digits of any script but the ones written without spaces.
_WORD = re.compile(rf"[^\W_{_CJK}]+")
# What may stand between the words of a name in a text: "Anna Huber", "Jean-Pierre",
# "anna.huber", "O'Brien".
_JOIN = re.compile(r"[\s.'’_+-]{1,3}")  # noqa: RUF001
_CJK_RUN = re.compile(rf"[{_CJK}](?:[{_CJK}]|[ \u3000・](?=[{_CJK}]))*")
_HAS_CJK = re.compile(rf"[{_CJK}]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# Case endings of Ukrainian (and Bulgarian vocative) names: "Іваном", "Петренка", "Олені".
_CYRILLIC_ENDINGS = (
    "а я у ю і и е є о ї ом ем єм ою ею ів ам ям ах ях ами ові еві єві ої ій ий ого ому им ім"  # noqa: RUF001
)
_CYRILLIC_VOWELS = "аяоеєиіюу"  # as compared: "ї" and "й" lose their marks


@functools.lru_cache(maxsize=65536)
def _key(word: str) -> str:
    """A word as names are compared: compatibility forms, no accents, case folded."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


_COMMON = frozenset(_key(word) for word in COMMON_WORDS.split())
_ENDINGS = frozenset(_key(ending) for ending in _CYRILLIC_ENDINGS.split())


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


class _Names:
    """One matcher for all of a city's names: token tuples looked up in a dictionary at each
    word of a text (longest first), so the cost grows with the text, not with the users.

    What counts as a name, for a display name such as "Anna Maria Huber":

    - the whole display name, whatever its words ("Anna Maria Huber"), if it has at least 4
      letters: it is how the person shows up in the app;
    - each of its parts (split at spaces; "Marie-Claire" is one part) with at least 4 letters
      that is not a common word of the programme's languages (``COMMON_WORDS``): "Huber",
      and also "Anna" and "Maria". First names are not left out: which part is the given name
      depends on the culture (Japanese and Hungarian put the family name first), and a given
      name with a bit of context is often enough to recognise a neighbour. Names that are
      words ("Rosa", "Pierre", "Надія", "Will") are kept alone but scrubbed in the full
      name; parts under 4 letters ("Li", "Ana") only in the full name;
    - a part alone also with a German/English possessive "s" ("Hubers") and, in Cyrillic,
      with the Ukrainian case endings ("Іваном", "Петренка");
    - the local part of the person's e-mail address, whole, as a word ("anna.huber77"), if
      it has at least 4 letters and is not a common word ("info");
    - in Japanese (no spaces between words), the full name as a substring, with or without
      a space between family and given name; a part alone ("山田") only before an honorific
      ("山田さん"), since two kanji are often an ordinary word.
    """

    def __init__(self, names: Iterable[str], nicknames: Iterable[str]) -> None:
        self.phrases: set[tuple[str, ...]] = set()
        self.stems: set[str] = set()
        self.cjk: dict[str, bool] = {}  # name -> matched anywhere (else before an honorific)
        for name in names:
            self._add_name(name or "")
        for nickname in nicknames:
            self._add_part(nickname or "", own=False)
        self.longest = max((len(p) for p in self.phrases), default=0)
        self.firsts = {p[0] for p in self.phrases}
        self.cjk_lengths = sorted({len(k) for k in self.cjk}, reverse=True)

    def _add_name(self, name: str) -> None:
        parts = name.split()
        if _HAS_CJK.search(name):
            self._add_cjk(parts)
            parts = [p for p in parts if not _HAS_CJK.search(p)]
            if not parts:
                return
        words = tuple(_key(w) for w in _WORD.findall(" ".join(parts)))
        if len(words) > 1 and _letters("".join(words)) >= 4:
            self.phrases.add(words)
        for part in parts:
            self._add_part(part, own=True)

    def _add_part(self, part: str, own: bool) -> None:
        words = tuple(_key(w) for w in _WORD.findall(part))
        if not words or _letters("".join(words)) < 4 or all(w in _COMMON for w in words):
            return
        self.phrases.add(words)
        for word in words if own else ():
            if _letters(word) < 4 or word in _COMMON:
                continue
            self.phrases.add((word,))
            if _CYRILLIC.search(word):
                stem = word.rstrip(_CYRILLIC_VOWELS)
                self.stems.add(stem if len(stem) >= 3 else word)
            elif word + "s" not in _COMMON:
                self.phrases.add((word + "s",))

    def _add_cjk(self, parts: list[str]) -> None:
        cjk = [unicodedata.normalize("NFKC", p) for p in parts if _HAS_CJK.search(p)]
        if len(cjk) > 1:
            for space in ("", " ", "\u3000", "・"):
                self.cjk[space.join(cjk)] = True
            for part in cjk:
                if len(part) >= 2:
                    self.cjk.setdefault(part, False)
        elif cjk and len(cjk[0]) >= 2:
            # A name of three or more characters is rarely an ordinary word.
            self.cjk[cjk[0]] = self.cjk.get(cjk[0], False) or len(cjk[0]) >= 3

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where names stand in ``text``, as (start, end), in order, not overlapping."""
        found = self._word_spans(text) if self.phrases else []
        if self.cjk:
            found += self._cjk_spans(text)
            found.sort()
        return found

    def _word_spans(self, text: str) -> list[tuple[int, int]]:
        words = [(m.start(), m.end(), _key(m.group())) for m in _WORD.finditer(text)]
        # reach[i]: how many words from i on are joined as a name's words may be.
        reach = [1] * len(words)
        for i in range(len(words) - 2, -1, -1):
            if _JOIN.fullmatch(text, words[i][1], words[i + 1][0]):
                reach[i] = reach[i + 1] + 1
        found, i = [], 0
        while i < len(words):
            start, end, word = words[i]
            if word in self.firsts:
                for size in range(min(reach[i], self.longest), 0, -1):
                    if tuple(w[2] for w in words[i : i + size]) in self.phrases:
                        found.append((start, words[i + size - 1][1]))
                        break
                else:
                    size = 0
                if size:
                    i += size
                    continue
            if self.stems and _CYRILLIC.match(word) and self._inflected(word):
                found.append((start, end))
            i += 1
        return found

    def _inflected(self, word: str) -> bool:
        for cut in (1, 2, 3):
            if len(word) > cut and word[-cut:] in _ENDINGS:
                stem = word[:-cut]
                if stem in self.stems or stem.rstrip(_CYRILLIC_VOWELS) in self.stems:
                    return True
        return False

    def _cjk_spans(self, text: str) -> list[tuple[int, int]]:
        found = []
        for run in _CJK_RUN.finditer(text):
            chunk, start, i = unicodedata.normalize("NFKC", run.group()), run.start(), 0
            if len(chunk) != len(run.group()):  # offsets would no longer match the text
                chunk = run.group()
            while i < len(chunk):
                for size in self.cjk_lengths:
                    anywhere = self.cjk.get(chunk[i : i + size])
                    if anywhere or (anywhere is False and chunk.startswith(_HONORIFICS, i + size)):
                        found.append((start + i, start + i + size))
                        i += size
                        break
                else:
                    i += 1
        return found


# --- the scrubber --------------------------------------------------------------------------


class Scrubber:
    """Scrubs free text of e-mail addresses, URLs, IBANs, phone numbers and the given names.

    ``names`` are display names; ``nicknames`` words people go by elsewhere (the local part of
    their e-mail address). One scrubber serves a whole export: ``counts`` adds up the
    replacements made, per kind, for the export's report.
    """

    def __init__(self, names: Iterable[str], nicknames: Iterable[str] = ()) -> None:
        self.counts: Counter = Counter()
        self._names = _Names(names, nicknames)

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        # A replacement changes what its neighbours touch ("_www.x.org" after a name is
        # "[name]www.x.org"), so the passes run again until nothing changes: that is what
        # makes scrubbing scrubbed text a no-op. Each round replaces something with a token
        # no pass matches, so the rounds end; the bound is only a guard.
        for _round in range(10):
            before = self.counts.total()
            text = self._once(text)
            if self.counts.total() == before:
                break
        return text

    def _once(self, text: str) -> str:
        # Cheap looks first: most comments hold no "@", no dot before a letter, no digit.
        if "@" in text:
            text = _EMAIL.sub(lambda m: self._replaced(EMAIL), text)
        if _MAYBE_URL.search(text):
            text = _URL.sub(self._url, text)
        if _DIGIT.search(text):
            text = _IBAN.sub(self._iban, text)
            text = _PHONE.sub(self._phone, text)
        return self._without_names(text)

    def _replaced(self, kind: str) -> str:
        self.counts[kind] += 1
        return _token(kind)

    def _url(self, match: re.Match) -> str:
        url = match.group()
        end = len(url)
        while end and url[end - 1] in _URL_TRAILING:
            # A closing bracket belongs to the URL when it closes one opened inside it.
            if url[end - 1] == ")" and url.count("(", 0, end) >= url.count(")", 0, end):
                break
            end -= 1
        if end == 0 or url[:end].lower() in ("www.", "http://", "https://"):
            return url
        return self._replaced(URL) + url[end:]

    def _iban(self, match: re.Match) -> str:
        candidate = match.group()
        while candidate:
            if is_iban(candidate):
                return self._replaced(IBAN) + match.group()[len(candidate) :]
            # Try without the last group: it may be a word that followed the number.
            candidate = candidate[: candidate.rfind(" ")] if " " in candidate else ""
        return match.group()

    def _phone(self, match: re.Match) -> str:
        if match.group("date") or match.group("code"):
            return match.group()
        candidate, string = match.group(), match.string
        # A phone candidate that runs into a date ("0664 1234567 12.03.2026") stops before it.
        inner = _DATE_INSIDE.search(candidate)
        if inner:
            candidate = candidate[: inner.start()].rstrip(" \t-./")
        end = match.start() + len(candidate)
        before = string[max(0, match.start() - 12) : match.start()]
        if not _is_phone(candidate, before, string[end : end + 6]):
            return match.group()
        return self._replaced(PHONE) + match.group()[len(candidate) :]

    def _without_names(self, text: str) -> str:
        spans = self._names.spans(text)
        if not spans:
            return text
        pieces, last = [], 0
        for start, end in spans:
            pieces += [text[last:start], self._replaced(NAME)]
            last = end
        pieces.append(text[last:])
        return "".join(pieces)


def city_scrubber(session: Session, city_id: int) -> Scrubber:
    """A scrubber for the names of the city's registered users: its residents and whoever
    holds a role in it (moderators and staff are named in comments too)."""
    staff = sa.select(RoleGrant.user_id).where(RoleGrant.city_id == city_id)
    rows = session.execute(
        sa.select(User.display_name, User.email).where(
            sa.or_(User.city_id == city_id, User.id.in_(staff))
        )
    ).all()
    return Scrubber(
        (row.display_name for row in rows),
        nicknames=(row.email.partition("@")[0] for row in rows),
    )
