"""The field rules every resident value passes: typed in chat, imported, or given to the CLI."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.errors import InvalidValue
from bot.domain.residents import (
    parse_birth_year,
    parse_field,
    parse_language,
    parse_phone,
    parse_postal_code,
    parse_resident,
)

THIS_YEAR = 2026


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("040 123 4567", "+358401234567"),
        ("0401234567", "+358401234567"),
        ("040-123 4567", "+358401234567"),
        ("050.123.4567", "+358501234567"),
        ("09 123 4567", "+35891234567"),
        ("(09) 123 4567", "+35891234567"),
        ("+358 40 123 4567", "+358401234567"),
        ("+358401234567", "+358401234567"),
        ("00358 40 123 4567", "+358401234567"),
        ("+358 (0)40 123 4567", "+358401234567"),
        ("+358 040 123 4567", "+358401234567"),
        ("+358 9 1234 567", "+35891234567"),
        ("+46 70 123 45 67", "+46701234567"),
        ("0046 70 123 45 67", "+46701234567"),
        ("+44 (0)20 7946 0018", "+442079460018"),
        ("+1 202 555 0123", "+12025550123"),
        ("  040 123 4567  ", "+358401234567"),
    ],
)
def test_phone_formats_are_normalised_to_e164(raw, e164):
    assert parse_phone(raw) == e164


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "123",
        "12345678",  # no leading 0 or +: neither national nor international
        "040 123 4567 ext 5",
        "0",
        "+",
        "+358",
        "+0401234567",
        "+1 23",
        "+1234567890123456",  # over the 15 digits E.164 allows
        "040 12",
        "040 123 4567 8901",
        "puh. 040 123 4567",
        "040/1234567",
    ],
)
def test_bad_phone_numbers_are_refused_with_a_reason(raw):
    with pytest.raises(InvalidValue) as refused:
        parse_phone(raw)
    assert (refused.value.field, refused.value.reason) == ("phone", "phone.format")


finnish_mobile = st.tuples(
    st.sampled_from(["40", "41", "44", "45", "46", "50"]),
    st.text(alphabet="0123456789", min_size=7, max_size=7),
).map("".join)


def spaced(digits: str, separators: list[str]) -> str:
    return (
        "".join(d + s for d, s in zip(digits, separators, strict=False)) + digits[len(separators) :]
    )


@given(
    finnish_mobile,
    st.lists(st.sampled_from(["", " ", "-"]), min_size=9, max_size=9),
    st.sampled_from(["0", "+358", "00358", "+358 ", "+358 (0)"]),
)
def test_every_way_of_writing_a_finnish_number_gives_the_same_e164(number, separators, prefix):
    assert parse_phone(prefix + spaced(number, separators)) == "+358" + number


@given(st.text(max_size=25))
def test_a_phone_is_refused_or_normalised_to_e164_and_stays_so(raw):
    try:
        phone = parse_phone(raw)
    except InvalidValue:
        return
    assert re.fullmatch(r"\+[1-9][0-9]{6,14}", phone)
    assert parse_phone(phone) == phone


@given(st.text(alphabet="0123456789", min_size=5, max_size=5))
def test_any_five_digits_are_a_postal_code(code):
    assert parse_postal_code(f" {code} ") == code


@pytest.mark.parametrize("raw", ["0010", "001000", "00 100", "FI-00100", "abcde", "００１００"])
def test_other_postal_codes_are_refused(raw):
    with pytest.raises(InvalidValue) as refused:
        parse_postal_code(raw)
    assert refused.value.reason == "postal_code.format"


@given(st.integers(min_value=1900, max_value=THIS_YEAR))
def test_birth_years_from_1900_to_this_year_are_accepted(year):
    assert parse_birth_year(str(year), THIS_YEAR) == year


@given(st.integers(min_value=1000, max_value=9999).filter(lambda y: not 1900 <= y <= THIS_YEAR))
def test_birth_years_outside_the_range_are_refused(year):
    with pytest.raises(InvalidValue) as refused:
        parse_birth_year(str(year), THIS_YEAR)
    assert refused.value.reason == "birth_year.range"


@pytest.mark.parametrize("raw", ["48", "1948.0", "19 48", "vuonna 1948", "-1948", "١٩٤٨"])
def test_birth_years_not_written_as_four_digits_are_refused(raw):
    with pytest.raises(InvalidValue) as refused:
        parse_birth_year(raw, THIS_YEAR)
    assert refused.value.reason == "birth_year.format"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("fi", "fi"),
        ("FI", "fi"),
        ("suomi", "fi"),
        ("Finnish", "fi"),
        ("finska", "fi"),
        ("sv", "sv"),
        ("ruotsi", "sv"),
        ("Svenska", "sv"),
        ("swedish", "sv"),
        ("en", "en"),
        ("englanti", "en"),
        ("English", "en"),
        ("engelska", "en"),
        (" suomi ", "fi"),
    ],
)
def test_languages_are_understood_in_three_languages(raw, code):
    assert parse_language(raw) == code


@pytest.mark.parametrize("raw", ["de", "saksa", "russian", "fin", "s"])
def test_other_languages_are_refused(raw):
    with pytest.raises(InvalidValue) as refused:
        parse_language(raw)
    assert refused.value.reason == "language.unknown"


def test_text_fields_are_tidied_and_limited():
    assert parse_field("name", "  Maija   Meikäläinen ", THIS_YEAR) == "Maija Meikäläinen"
    assert parse_field("note", "", THIS_YEAR) == ""
    assert parse_field("phone", "  ", THIS_YEAR) is None
    with pytest.raises(InvalidValue) as refused:
        parse_field("name", "x" * 101, THIS_YEAR)
    assert refused.value.reason == "text.too_long"
    with pytest.raises(InvalidValue) as refused:
        parse_field("note", "bell\x07", THIS_YEAR)
    assert refused.value.reason == "text.control"
    with pytest.raises(InvalidValue) as refused:
        parse_field("name", "   ", THIS_YEAR)
    assert (refused.value.field, refused.value.reason) == ("name", "required")


def test_a_resident_collects_every_problem_at_once():
    resident, problems = parse_resident(
        {"name": "", "phone": "12", "postal_code": "1", "birth_year": "1850", "language": "de"},
        THIS_YEAR,
    )
    assert resident is None
    assert [(p.field, p.reason) for p in problems] == [
        ("name", "required"),
        ("phone", "phone.format"),
        ("postal_code", "postal_code.format"),
        ("birth_year", "birth_year.range"),
        ("language", "language.unknown"),
    ]


def test_a_resident_without_a_language_gets_the_default():
    resident, problems = parse_resident({"name": "Lea"}, THIS_YEAR, default_language="sv")
    assert not problems and resident is not None
    assert resident.language == "sv" and resident.phone is None and resident.birth_year is None
