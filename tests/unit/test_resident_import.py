"""Reading residents CSV files: encodings, separators, headings in three languages, rows, limits."""

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import resident_import
from bot.domain.resident_import import InvalidFile, read_residents

THIS_YEAR = 2026

FINNISH = (
    "Nimi;Puhelin;Katuosoite;Postinumero;Kunta;Syntymävuosi;Kieli;Kotitalous;Lisätieto\n"
    "Aili Esimerkki;040 123 4567;Kotikatu 1 A 2;00100;Helsinki;1938;suomi;asuu yksin;\n"
    "Bengt Exempel;+358 50 765 4321;Hemvägen 3;65100;Vaasa;1944;ruotsi;;kuulee huonosti\n"
)


def read(text: str | bytes, **kwargs):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return read_residents(data, THIS_YEAR, **kwargs)


def refused(text: str | bytes) -> InvalidFile:
    with pytest.raises(InvalidFile) as error:
        read(text)
    return error.value


def test_a_finnish_excel_file_is_read():
    parsed = read(FINNISH)
    assert parsed.columns[:3] == ("name", "phone", "street_address")
    assert [row.row for row in parsed.valid] == [2, 3]
    aili, bengt = (row.resident for row in parsed.valid)
    assert aili.phone == "+358401234567" and aili.postal_code == "00100"
    assert aili.birth_year == 1938 and aili.language == "fi"
    assert aili.household_note == "asuu yksin" and aili.note == ""
    assert bengt.language == "sv" and bengt.note == "kuulee huonosti"
    assert not parsed.rejected


def test_a_bom_is_skipped():
    parsed = read(codecs.BOM_UTF8 + FINNISH.encode())
    assert parsed.columns[0] == "name" and len(parsed.valid) == 2


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_any_line_ending_works(newline):
    parsed = read(FINNISH.replace("\n", newline))
    assert [row.row for row in parsed.valid] == [2, 3]


def test_commas_are_sniffed_from_the_header_and_quotes_keep_commas_in_values():
    parsed = read('name,phone,address,note\nAili Esimerkki,040 123 4567,"Kotikatu 1, A 2","a; b"\n')
    (row,) = parsed.valid
    assert row.resident.street_address == "Kotikatu 1, A 2"
    assert row.resident.note == "a; b"


def test_a_semicolon_file_with_commas_in_values_is_read_as_semicolons():
    parsed = read("nimi;huomio\nEsimerkki, Aili;kissa, koira\n")
    assert parsed.valid[0].resident.name == "Esimerkki, Aili"
    assert parsed.valid[0].resident.note == "kissa, koira"


def test_a_single_column_file_is_read():
    parsed = read("namn\nBengt Exempel, junior\n")
    assert parsed.valid[0].resident.name == "Bengt Exempel, junior"


@pytest.mark.parametrize(
    "header",
    [
        "nimi;puhelin;osoite;postinumero;kunta;syntymävuosi;kieli;kotitalous;huomio",
        "namn;telefon;adress;postnummer;kommun;födelseår;språk;hushåll;anteckning",
        "name;phone;address;postal_code;municipality;birth_year;language;household;note",
        "Name;Phone;Street address;Postal code;Municipality;Birth year;Language;"
        "Household note;Note",
        "  NIMI ; PUHELIN ;KATUOSOITE;Postinumero;KUNTA;Syntymävuosi;Kieli;Kotitalous;Lisätieto",
    ],
)
def test_headings_are_understood_in_three_languages_whatever_the_case(header):
    parsed = read(f"{header}\nAili;040 1234567;Katu 1;00100;Espoo;1950;fi;yksin;huom\n")
    assert parsed.columns == (
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
    assert parsed.valid[0].resident.household_note == "yksin"


def test_columns_may_come_in_any_order_and_be_left_out():
    parsed = read("puhelin;nimi\n040 1234567;Aili\n")
    resident = parsed.valid[0].resident
    assert resident.name == "Aili" and resident.phone == "+358401234567"
    assert resident.street_address == "" and resident.birth_year is None


def test_decomposed_letters_from_a_mac_are_composed():
    parsed = read("Syntyma\u0308vuosi;Nimi\n1950;Ma\u0308tti\n")
    assert parsed.valid[0].resident.name == "Mätti"


def test_rejected_rows_have_spreadsheet_row_numbers_and_every_reason():
    parsed = read(
        "nimi;puhelin;postinumero;syntymävuosi\n"
        "Aili;040 1234567;00100;1950\n"
        "\n"  # a blank row 3 still counts, as in a spreadsheet
        ";;;\n"  # a row of separators only (row 4) is blank too
        "Bengt;12;1234;1850\n"
        ";040 7654321;00100;\n"
        '"Cecilia\nSecond line";040 1111111;00100;1960\n'  # one row over two lines
        "Dora;abc;;\n"
    )
    assert [row.row for row in parsed.valid] == [2, 7]
    assert parsed.valid[1].resident.name == "Cecilia Second line"
    assert [(row.row, [(p.field, p.reason) for p in row.problems]) for row in parsed.rejected] == [
        (
            5,
            [
                ("phone", "phone.format"),
                ("postal_code", "postal_code.format"),
                ("birth_year", "birth_year.range"),
            ],
        ),
        (6, [("name", "required")]),
        (8, [("phone", "phone.format")]),
    ]


def test_cells_outside_the_named_columns_reject_the_row():
    parsed = read(
        "nimi;;puhelin\nAili;;040 1234567\nBengt;x;040 7654321\nCecilia;;;extra\nDora;;;\n"
    )
    assert [row.row for row in parsed.valid] == [2, 5]
    assert [(row.row, row.problems[0].reason) for row in parsed.rejected] == [
        (3, "row.unnamed_column"),
        (4, "row.extra_cells"),
    ]


def test_the_same_person_twice_is_noted_as_repeated():
    parsed = read(
        "nimi;puhelin;kunta\n"
        "Aili Esimerkki;040 1234567;Espoo\n"
        "Bengt;040 7654321;Vaasa\n"
        "aili  ESIMERKKI;+358401234567;Helsinki\n"
        "Aili Esimerkki;;Turku\n"  # without a phone nobody can tell: a new resident
    )
    assert len(parsed.valid) == 4
    assert [(r.row, r.earlier_row) for r in parsed.repeated] == [(4, 2)]


def test_a_language_column_left_empty_takes_the_default():
    parsed = read("nimi;kieli\nAili;\nBengt;sv\n", default_language="en")
    assert [row.resident.language for row in parsed.valid] == ["en", "sv"]


@pytest.mark.parametrize(
    ("text", "reason", "columns"),
    [
        ("puhelin;osoite\n040 1234567;Katu 1\n", "header.no_name", ()),
        ("nimi;puhelin;ikä\nAili;040 1234567;88\n", "header.unknown", ("ikä",)),
        ("nimi;hetu;sotu\n", "header.unknown", ("hetu", "sotu")),
        ("nimi;namn\n", "header.duplicate", ("namn",)),
        ("nimi;puhelin;Puhelin\n", "header.duplicate", ("Puhelin",)),
    ],
)
def test_a_header_that_cannot_be_mapped_refuses_the_file(text, reason, columns):
    error = refused(text)
    assert (error.reason, error.columns, error.row) == (reason, columns, 1)


def test_an_empty_file_is_refused():
    for text in ("", "\n\n", "   ", codecs.BOM_UTF8.decode("utf-8")):
        assert refused(text).reason == "file.empty"


def test_a_header_alone_is_a_file_without_residents():
    parsed = read("nimi;puhelin\n")
    assert parsed.valid == () and parsed.rejected == ()


def test_a_windows_1252_file_is_explained_not_guessed():
    error = refused("nimi;kunta\nAili;Espoo\nMäki;Hämeenlinna\n".encode("cp1252"))
    assert (error.reason, error.row) == ("file.encoding", 3)


def test_a_utf16_file_is_explained():
    assert refused("nimi\tpuhelin\nAili\t040\n".encode("utf-16")).reason == "file.utf16"


def test_a_spreadsheet_workbook_is_explained():
    assert refused(b"PK\x03\x04\x14\x00\x06\x00rest of a zip").reason == "file.spreadsheet"
    assert refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old xls").reason == "file.spreadsheet"


def test_binary_junk_is_refused():
    assert refused(b"nimi\n\x00\x01\x02").reason == "file.not_text"
    assert refused(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff").reason == "file.not_text"


def test_a_broken_quote_is_refused_with_its_row():
    error = refused('nimi;puhelin\nAili;040 1234567\n"Bengt;040 7654321\n')
    assert (error.reason, error.row) == ("file.malformed", 3)
    error = refused('nimi;puhelin\nAili "A" Esimerkki;040\n"Bengt"x;1\n')
    assert (error.reason, error.row) == ("file.malformed", 3)


def test_too_many_rows_are_refused(monkeypatch):
    monkeypatch.setattr(resident_import, "MAX_ROWS", 3)
    assert len(read("nimi\na\nb\n\n\nc\n").valid) == 3
    assert refused("nimi\na\nb\nc\nd\n").reason == "file.too_many_rows"


def test_the_real_row_limit_is_50000():
    rows = "".join(f"Asukas {i}\n" for i in range(50_001))
    assert refused("nimi\n" + rows).reason == "file.too_many_rows"
    assert len(read("nimi\n" + rows[: rows.index("Asukas 50000")]).valid) == 50_000


def test_a_file_over_10_mb_is_refused_before_it_is_read():
    data = b"nimi\n" + b"x" * (10 * 1024 * 1024)
    assert refused(data).reason == "file.too_large"


@given(
    st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30), max_size=8)
)
def test_any_text_is_read_or_refused_never_crashes(cells):
    text = "nimi;puhelin;huomio\n" + "\n".join(";".join(cells[i : i + 3]) for i in range(0, 8, 3))
    try:
        parsed = read(text)
    except InvalidFile as error:
        assert error.reason.startswith(("file.", "header."))
        return
    rows = [row.row for row in parsed.valid] + [row.row for row in parsed.rejected]
    assert len(rows) == len(set(rows)) and all(row >= 2 for row in rows)
