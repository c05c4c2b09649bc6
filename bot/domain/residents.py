"""Residents, the people the help is for, and the rules every value about them must pass.

The same field rules serve the guided chat, the CSV import and the command line, so a value that
one accepts the others accept too. Phone numbers are stored in E.164 (`+358401234567`); a Finnish
national number (`040 123 4567`, `09 123 4567`) is read as +358. A resident is the same person as
one already stored when the phone number and the name match (case and spacing aside); importing them
again updates the record instead of duplicating it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.domain.errors import InvalidValue
from bot.domain.people import SUPPORTED_LANGUAGES

__all__ = [
    "FIELDS",
    "OPTIONAL_FIELDS",
    "Resident",
    "ResidentInput",
    "match_key",
    "parse_birth_year",
    "parse_field",
    "parse_language",
    "parse_phone",
    "parse_postal_code",
    "parse_resident",
]

OLDEST_BIRTH_YEAR = 1900
_MAX_LENGTHS = {
    "name": 100,
    "street_address": 200,
    "municipality": 80,
    "household_note": 500,
    "note": 500,
}
# The order in which the guided chat asks, and the columns of an import.
FIELDS: tuple[str, ...] = (
    "name",
    "phone",
    "street_address",
    "postal_code",
    "municipality",
    "birth_year",
    "language",
    "household_note",
    "note",
)
OPTIONAL_FIELDS: frozenset[str] = frozenset(FIELDS) - {"name", "language"}

_LANGUAGE_WORDS: dict[str, str] = {
    **{code: code for code in SUPPORTED_LANGUAGES},
    "suomi": "fi",
    "finnish": "fi",
    "finska": "fi",
    "ruotsi": "sv",
    "swedish": "sv",
    "svenska": "sv",
    "englanti": "en",
    "english": "en",
    "engelska": "en",
}


class ResidentInput(BaseModel):
    """What is known of a resident before they are stored; every value already checked."""

    model_config = ConfigDict(frozen=True)

    name: str
    phone: str | None = None
    street_address: str = ""
    postal_code: str = ""
    municipality: str = ""
    birth_year: int | None = None
    language: str = "fi"
    household_note: str = ""
    note: str = ""


class Resident(ResidentInput):
    """A stored resident."""

    id: int
    created_at: datetime
    updated_at: datetime
    no_calls_since: datetime | None = None  # asked not to be called: no campaign lists them


def _clean_text(field: str, raw: str) -> str:
    text = " ".join(raw.split())
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidValue(field, "text.control")
    if len(text) > _MAX_LENGTHS[field]:
        raise InvalidValue(field, "text.too_long")
    return text


def _ascii_digits(text: str) -> bool:
    # `str.isdigit` and `\d` accept any script's digits (`٤`, `４`), which are not stored.
    return text.isascii() and text.isdigit()


def parse_phone(raw: str) -> str:
    """Return the number in E.164; Finnish national numbers (leading 0) become +358."""
    compact = re.sub(r"[\s\-.]", "", raw)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("+"):
        # `+358 (0)40 …` and `+358 040 …`: the national trunk 0 is not part of the number.
        compact = compact.replace("(0)", "")
        if compact.startswith("+3580"):
            compact = "+358" + compact[5:]
    compact = re.sub(r"[()]", "", compact)
    if compact.startswith("+"):
        digits = compact[1:]
        if not _ascii_digits(digits) or digits.startswith("0") or not 7 <= len(digits) <= 15:
            raise InvalidValue("phone", "phone.format")
        return "+" + digits
    if compact.startswith("0") and _ascii_digits(compact) and 6 <= len(compact) - 1 <= 10:
        return "+358" + compact[1:]
    raise InvalidValue("phone", "phone.format")


def parse_postal_code(raw: str) -> str:
    """Return a Finnish postal code: exactly five digits."""
    code = raw.strip()
    if not re.fullmatch(r"[0-9]{5}", code):
        raise InvalidValue("postal_code", "postal_code.format")
    return code


def parse_birth_year(raw: str, this_year: int) -> int:
    """Return a birth year between 1900 and this year."""
    text = raw.strip()
    if not re.fullmatch(r"[0-9]{4}", text):
        raise InvalidValue("birth_year", "birth_year.format")
    year = int(text)
    if not OLDEST_BIRTH_YEAR <= year <= this_year:
        raise InvalidValue("birth_year", "birth_year.range")
    return year


def parse_language(raw: str) -> str:
    """Return fi, sv or en from a code or a language's name in any of the three languages."""
    language = _LANGUAGE_WORDS.get(raw.strip().lower())
    if language is None:
        raise InvalidValue("language", "language.unknown")
    return language


def parse_field(field: str, raw: str, this_year: int) -> object:
    """Return the checked value of one field from text; an empty optional field is its default."""
    if field not in FIELDS:
        raise ValueError(f"unknown resident field {field!r}")
    if not raw.strip():
        if field not in OPTIONAL_FIELDS:
            raise InvalidValue(field, "required")
        return ResidentInput.model_fields[field].default
    parsers: dict[str, Callable[[str], object]] = {
        "phone": parse_phone,
        "postal_code": parse_postal_code,
        "birth_year": lambda text: parse_birth_year(text, this_year),
        "language": parse_language,
    }
    parser = parsers.get(field)
    if parser is not None:
        return parser(raw)
    return _clean_text(field, raw)


def parse_resident(
    values: Mapping[str, str], this_year: int, default_language: str = "fi"
) -> tuple[ResidentInput | None, list[InvalidValue]]:
    """Check every field of a resident; return the input, or None and every problem found."""
    checked: dict[str, object] = {}
    problems: list[InvalidValue] = []
    for field in FIELDS:
        raw = values.get(field, "")
        if field == "language" and not raw.strip():
            raw = default_language
        try:
            checked[field] = parse_field(field, raw, this_year)
        except InvalidValue as problem:
            problems.append(problem)
    if problems:
        return None, problems
    return ResidentInput.model_validate(checked), []


def match_key(name: str, phone: str | None) -> str | None:
    """Return the key that makes two records the same resident, or None without a phone."""
    if phone is None:
        return None
    return f"{phone}|{' '.join(name.split()).casefold()}"
