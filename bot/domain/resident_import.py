"""Reading residents from a CSV file, the way Finnish, Swedish and English spreadsheets write it.

The file is all or nothing at the file level: a file that is not UTF-8 text, is too large, or whose
header row cannot be mapped to resident fields raises `InvalidFile` and no row is read. Past the
header, every row is judged on its own with the same field rules as the guided chat
(`parse_resident`); a bad row is rejected with every reason found and the others stay valid.
Row numbers are those a spreadsheet shows: the header is row 1 and blank rows still count.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass

from bot.domain.errors import DomainError, InvalidValue
from bot.domain.residents import FIELDS, ResidentInput, match_key, parse_resident

__all__ = [
    "HEADER_NAMES",
    "MAX_BYTES",
    "MAX_ROWS",
    "ImportRow",
    "InvalidFile",
    "ParsedImport",
    "RejectedRow",
    "RepeatedRow",
    "read_residents",
]

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000

# Column headings in Finnish, Swedish and English, after `_header_key` (case folded, spaces and
# dashes as `_`). The English field names themselves are always accepted.
HEADER_NAMES: dict[str, str] = {
    **{field: field for field in FIELDS},
    # name
    "nimi": "name",
    "koko_nimi": "name",
    "namn": "name",
    "fullständigt_namn": "name",
    "full_name": "name",
    # phone
    "puhelin": "phone",
    "puhelinnumero": "phone",
    "puh": "phone",
    "telefon": "phone",
    "telefonnummer": "phone",
    "tel": "phone",
    "phone_number": "phone",
    "telephone": "phone",
    # street_address
    "osoite": "street_address",
    "katuosoite": "street_address",
    "lähiosoite": "street_address",
    "adress": "street_address",
    "gatuadress": "street_address",
    "address": "street_address",
    "street": "street_address",
    # postal_code
    "postinumero": "postal_code",
    "postnummer": "postal_code",
    "postcode": "postal_code",
    "post_code": "postal_code",
    "zip": "postal_code",
    "zip_code": "postal_code",
    # municipality
    "kunta": "municipality",
    "kotikunta": "municipality",
    "kaupunki": "municipality",
    "kommun": "municipality",
    "hemkommun": "municipality",
    "stad": "municipality",
    "city": "municipality",
    "town": "municipality",
    # birth_year
    "syntymävuosi": "birth_year",
    "födelseår": "birth_year",
    "year_of_birth": "birth_year",
    # language
    "kieli": "language",
    "asiointikieli": "language",
    "språk": "language",
    "lang": "language",
    # household_note
    "kotitalous": "household_note",
    "hushåll": "household_note",
    "household": "household_note",
    # note
    "huomio": "note",
    "huomiot": "note",
    "lisätieto": "note",
    "lisätiedot": "note",
    "anteckning": "note",
    "anteckningar": "note",
    "notes": "note",
}

# Files that are not text at all, recognised by their first bytes.
_SPREADSHEET_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # xlsx/ods (zip), old xls
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_SEPARATORS = (";", ",", "\t")


class InvalidFile(DomainError):
    """The file as a whole cannot be imported; nothing of it was read.

    `reason` is a language-neutral code (e.g. `file.encoding`, `header.unknown`); `columns` names
    the offending column headings and `row` the row where the problem is, where that helps.
    """

    def __init__(
        self, reason: str, *, columns: tuple[str, ...] = (), row: int | None = None
    ) -> None:
        super().__init__(reason if row is None else f"{reason} at row {row}")
        self.reason = reason
        self.columns = columns
        self.row = row


@dataclass(frozen=True, slots=True)
class ImportRow:
    """A valid row: its row number and the resident it describes."""

    row: int
    resident: ResidentInput


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row that was not imported, and every reason why."""

    row: int
    problems: tuple[InvalidValue, ...]


@dataclass(frozen=True, slots=True)
class RepeatedRow:
    """A valid row describing the same resident (phone and name) as an earlier row of the file."""

    row: int
    earlier_row: int


@dataclass(frozen=True, slots=True)
class ParsedImport:
    """What a file holds: the fields of its columns, valid rows and rejected rows in file order."""

    columns: tuple[str, ...]
    valid: tuple[ImportRow, ...]
    rejected: tuple[RejectedRow, ...]
    repeated: tuple[RepeatedRow, ...] = ()


def read_residents(data: bytes, this_year: int, default_language: str = "fi") -> ParsedImport:
    """Read a residents CSV file; raise `InvalidFile` when the file as a whole is unusable."""
    text = _decode(data)
    separator = _sniff_separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    columns: list[str | None] | None = None
    valid: list[ImportRow] = []
    rejected: list[RejectedRow] = []
    repeated: list[RepeatedRow] = []
    first_row_of: dict[str, int] = {}
    row_number = 0
    data_rows = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error:
            raise InvalidFile("file.malformed", row=row_number + 1) from None
        row_number += 1
        if not any(cell.strip() for cell in record):
            continue  # a blank row, or a row of separators only
        if columns is None:
            columns = _map_header(record, row_number)
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            raise InvalidFile("file.too_many_rows")
        resident, problems = _read_row(record, columns, this_year, default_language)
        if resident is None:
            rejected.append(RejectedRow(row_number, tuple(problems)))
            continue
        valid.append(ImportRow(row_number, resident))
        key = match_key(resident.name, resident.phone)
        if key is not None:
            if key in first_row_of:
                repeated.append(RepeatedRow(row_number, first_row_of[key]))
            else:
                first_row_of[key] = row_number
    if columns is None:
        raise InvalidFile("file.empty")
    return ParsedImport(
        columns=tuple(c for c in columns if c is not None),
        valid=tuple(valid),
        rejected=tuple(rejected),
        repeated=tuple(repeated),
    )


def _decode(data: bytes) -> str:
    """Return the file's text; explain, rather than guess, when it is not UTF-8."""
    if len(data) > MAX_BYTES:
        raise InvalidFile("file.too_large")
    if data.startswith(_SPREADSHEET_MAGIC):
        raise InvalidFile("file.spreadsheet")
    if data.startswith(_UTF16_BOMS):
        raise InvalidFile("file.utf16")
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if b"\x00" in data:
            raise InvalidFile("file.not_text") from None
        # Most likely Excel's "CSV (comma delimited)", which writes Windows-1252 (ANSI).
        raise InvalidFile("file.encoding", row=data.count(b"\n", 0, exc.start) + 1) from None
    if "\x00" in text:
        raise InvalidFile("file.not_text")
    if not text.strip():
        raise InvalidFile("file.empty")
    # macOS may write decomposed letters (a + combining diaeresis); store what people type.
    return unicodedata.normalize("NFC", text)


def _sniff_separator(text: str) -> str:
    """Return the separator the header line uses most (`;` for a single column)."""
    header = next((line for line in io.StringIO(text, newline="") if line.strip()), "")
    outside_quotes = "".join(header.split('"')[::2])
    counts = {separator: outside_quotes.count(separator) for separator in _SEPARATORS}
    best = max(_SEPARATORS, key=lambda separator: counts[separator])  # ties: the first listed
    return best if counts[best] else ";"


def _header_key(heading: str) -> str:
    return re.sub(r"[\s_\-]+", "_", heading.strip().casefold()).strip("_")


def _map_header(record: list[str], row: int) -> list[str | None]:
    """Return the field of each column (None for a column without a heading)."""
    columns: list[str | None] = []
    unknown: list[str] = []
    duplicated: list[str] = []
    for heading in record:
        key = _header_key(heading)
        if not key:
            columns.append(None)
            continue
        field = HEADER_NAMES.get(key)
        if field is None:
            unknown.append(heading.strip())
        elif field in columns:
            duplicated.append(heading.strip())
        columns.append(field)
    if unknown:
        raise InvalidFile("header.unknown", columns=tuple(unknown), row=row)
    if duplicated:
        raise InvalidFile("header.duplicate", columns=tuple(duplicated), row=row)
    if "name" not in columns:
        raise InvalidFile("header.no_name", row=row)
    return columns


def _read_row(
    record: list[str], columns: list[str | None], this_year: int, default_language: str
) -> tuple[ResidentInput | None, list[InvalidValue]]:
    values: dict[str, str] = {}
    layout: list[InvalidValue] = []
    for field, cell in zip(columns, record, strict=False):
        if field is not None:
            values[field] = cell
        elif cell.strip() and not layout:
            layout.append(InvalidValue("row", "row.unnamed_column"))
    if any(cell.strip() for cell in record[len(columns) :]):
        layout.append(InvalidValue("row", "row.extra_cells"))
    resident, problems = parse_resident(values, this_year, default_language)
    if layout:
        return None, layout + problems
    return resident, problems
