"""Resident import: a 20,000-row CSV file into a fresh database, against the floor of any import.

The file is what a city's register extract looks like after a spreadsheet: a Finnish header
(`nimi;puhelin;osoite;postinumero;kunta;syntymävuosi;kieli;huomio`), invented names made of common
first names and surnames, unique mobile numbers (040 and seven digits), Kuopio postal codes, birth
years 1925-1956, mostly Finnish-speaking with some Swedish, a note now and then, and about 3 % of
the rows without a phone number (each of them a new resident).

Each round gets a fresh migrated database in a temporary directory and times
`ResidentService.import_csv(None, data)` end to end: decoding, checking every row, and the one
transaction that writes the residents and the audit trail. The same round then imports the same
file again into the filled database (every row with a phone now updates) and times that too.

The baseline, measured in the same run, is the floor of what any import costs: Python's `csv`
module reading the same bytes and stdlib `sqlite3` inserting the raw cells with `executemany` into
a bare 9-column table on a temporary file, in one transaction, with the pragmas Apuri uses (WAL,
synchronous NORMAL). Medians over the rounds are reported.
"""

from __future__ import annotations

import csv
import io
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.domain.residents import FIELDS
from bot.services.residents import ResidentService
from storage.db import Database
from storage.store import SqliteStore

__all__ = ["make_csv", "run"]

HEADER = "nimi;puhelin;osoite;postinumero;kunta;syntymävuosi;kieli;huomio"
_FIRST_NAMES = (
    "Aino", "Aili", "Anna", "Eeva", "Elli", "Helmi", "Hilkka", "Irja", "Kaarina", "Kerttu",
    "Leena", "Liisa", "Maija", "Marjatta", "Martta", "Orvokki", "Raili", "Sirkka", "Tyyne", "Vieno",
    "Aarne", "Eino", "Erkki", "Esko", "Heikki", "Kalevi", "Lauri", "Martti", "Olavi", "Paavo",
    "Pentti", "Reijo", "Seppo", "Tauno", "Toivo", "Unto", "Väinö", "Yrjö", "Bengt", "Gunnel",
)  # fmt: skip
_SURNAMES = (
    "Heikkinen", "Hyvönen", "Kärkkäinen", "Koskinen", "Korhonen", "Laitinen", "Lehtonen",
    "Miettinen", "Mäkinen", "Nieminen", "Partanen", "Pitkänen", "Räsänen", "Ruotsalainen",
    "Savolainen", "Turunen", "Tuovinen", "Väisänen", "Virtanen", "Åberg", "Lindqvist", "Holm",
)  # fmt: skip
_STREETS = (
    "Puijonkatu", "Kauppakatu", "Tulliportinkatu", "Minna Canthin katu", "Haapaniemenkatu",
    "Savonkatu", "Niiralankatu", "Petosenkatu", "Saaristokatu", "Rauhalahdentie",
)  # fmt: skip
_NOTES = ("kuulee huonosti", "ei ovikelloa, soita ensin", "koira kotona", "rollaattori", "")


def make_csv(rows: int, seed: int = 70100) -> bytes:
    """Return a realistic residents file of `rows` data rows, the same for the same seed."""
    rng = random.Random(seed)
    phones = rng.sample(range(10_000_000), rows)
    lines = [HEADER]
    for i in range(rows):
        name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_SURNAMES)}"
        phone = "" if rng.random() < 0.03 else f"040 {phones[i]:07d}"
        street = f"{rng.choice(_STREETS)} {rng.randint(1, 60)}"
        postal_code = str(rng.randrange(70100, 70901, 10))
        birth_year = str(rng.randint(1925, 1956))
        language = "sv" if rng.random() < 0.06 else "fi"
        note = rng.choice(_NOTES) if rng.random() < 0.2 else ""
        lines.append(
            ";".join((name, phone, street, postal_code, "Kuopio", birth_year, language, note))
        )
    return ("\n".join(lines) + "\n").encode()


async def _apuri_rounds(data: bytes, rounds: int) -> dict[str, Any]:
    """Import into a fresh database, then the same file again, `rounds` times."""
    first: list[float] = []
    again: list[float] = []
    created = updated = 0
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="apuri-bench-import-") as directory:
            db = await Database.open(Path(directory) / "apuri.sqlite3")
            try:
                await db.migrate()
                service = ResidentService(SqliteStore(db), lambda: datetime.now(UTC))
                started = time.perf_counter()
                report = await service.import_csv(None, data)
                first.append(time.perf_counter() - started)
                if report.error is not None or report.rejected:
                    raise RuntimeError(f"the benchmark file did not import cleanly: {report}")
                created = report.created
                started = time.perf_counter()
                report = await service.import_csv(None, data)
                again.append(time.perf_counter() - started)
                updated = report.updated
            finally:
                await db.close()
    return {
        "apuri_s": statistics.median(first),
        "again_s": statistics.median(again),
        "created": created,
        "updated_again": updated,
    }


def _baseline_round(data: bytes) -> float:
    """Time the floor: `csv` reading the bytes, `sqlite3.executemany` of the raw cells."""
    columns = tuple(field for field in FIELDS if field != "household_note")
    with tempfile.TemporaryDirectory(prefix="apuri-bench-baseline-") as directory:
        conn = sqlite3.connect(Path(directory) / "baseline.sqlite3", isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"CREATE TABLE residents ({', '.join(FIELDS)})")
            started = time.perf_counter()
            reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=";")
            next(reader)  # the header
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                f"INSERT INTO residents ({', '.join(columns)})"
                f" VALUES ({', '.join('?' for _ in columns)})",
                reader,
            )
            conn.execute("COMMIT")
            return time.perf_counter() - started
        finally:
            conn.close()


async def run(rows: int = 20_000, rounds: int = 5) -> dict[str, Any]:
    """Return the median import times of Apuri and of the baseline, and their ratio."""
    data = make_csv(rows)
    baseline = statistics.median(_baseline_round(data) for _ in range(rounds))
    apuri = await _apuri_rounds(data, rounds)
    return {
        "rows": rows,
        "apuri_s": apuri["apuri_s"],
        "baseline_s": baseline,
        "ratio": baseline / apuri["apuri_s"],
        "created": apuri["created"],
        "again_s": apuri["again_s"],
        "updated_again": apuri["updated_again"],
    }
