"""The bulk import ends exactly where adding or updating its rows one by one would.

`reference_import` is the row-by-row upsert the import used before `import_many`: look the row's
phone-and-name key up, add a resident when it is new, otherwise update just the file's columns.
Both run on databases seeded alike, and the whole `residents` table (ids included) must match.
"""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.people import Role
from bot.domain.residents import FIELDS, ResidentInput, match_key
from storage.db import Database
from storage.residents import SqliteResidents
from storage.store import SqliteStore
from tests.integration.helpers import register

BEFORE = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


async def reference_import(
    residents: SqliteResidents, rows: Sequence[ResidentInput], only: frozenset[str], at: datetime
) -> list[tuple[int, bool]]:
    """Apply the rows one by one, the way the import did before it went bulk."""
    saved = []
    for row in rows:
        key = match_key(row.name, row.phone)
        existing = await residents.by_match_key(key) if key else None
        if existing is None:
            saved.append(((await residents.add(row, key, at)).id, True))
            continue
        kept = {field: getattr(existing, field) for field in FIELDS if field not in only}
        await residents.update(existing.id, row.model_copy(update=kept), key, at)
        saved.append((existing.id, False))
    return saved


async def snapshot(db: Database) -> list[tuple[object, ...]]:
    """Return every stored column of every resident, by id."""
    return [tuple(row) for row in await db.fetch_all("SELECT * FROM residents ORDER BY id")]


async def temp_tables(db: Database) -> list[str]:
    return [row[0] for row in await db.fetch_all("SELECT name FROM sqlite_temp_master")]


async def both_ways(
    stored: Sequence[ResidentInput],
    rows: Sequence[ResidentInput],
    only: frozenset[str],
    *,
    drop_last_stored: bool = False,
) -> tuple[tuple[list, list], tuple[list, list]]:
    """Seed two fresh databases alike, import one way each; return (result, snapshot) twice."""
    outcomes = []
    for bulk in (False, True):
        db = await Database.open(":memory:")
        try:
            await db.migrate()
            store = SqliteStore(db)
            async with store.transaction():
                for resident in stored:
                    await store.residents.add(
                        resident, match_key(resident.name, resident.phone), BEFORE
                    )
                if drop_last_stored and stored:
                    await db.connection.execute(
                        "DELETE FROM residents WHERE id = (SELECT max(id) FROM residents)"
                    )
            async with store.transaction():
                if bulk:
                    result = await store.residents.import_many(rows, only, AT)
                else:
                    result = await reference_import(store.residents, rows, only, AT)
            assert await temp_tables(db) == []
            outcomes.append((result, await snapshot(db)))
        finally:
            await db.close()
    return outcomes[0], outcomes[1]


# Small pools, so that keys repeat within a file and match stored residents.
_names = st.sampled_from(
    ["Aili Esimerkki", "AILI  esimerkki", "aili esimerkki", "Bengt Exempel", "Åke Öberg", "Eero"]
)
_phones = st.one_of(st.none(), st.sampled_from(["+358401234567", "+358501112223", "+35891234"]))
_texts = st.sampled_from(["", "Kuja 1", "Tie 2", "kuulee huonosti"])
resident_inputs = st.builds(
    ResidentInput,
    name=_names,
    phone=_phones,
    street_address=_texts,
    postal_code=st.sampled_from(["", "70100", "00100"]),
    municipality=st.sampled_from(["", "Kuopio", "Vaasa"]),
    birth_year=st.one_of(st.none(), st.integers(1925, 1956)),
    language=st.sampled_from(["fi", "sv", "en"]),
    household_note=_texts,
    note=_texts,
)


def _unique_keys(stored: list[ResidentInput]) -> list[ResidentInput]:
    """Drop stored residents whose key an earlier one has: the database holds each key once."""
    seen: set[str] = set()
    kept = []
    for resident in stored:
        key = match_key(resident.name, resident.phone)
        if key is None or key not in seen:
            kept.append(resident)
            if key is not None:
                seen.add(key)
    return kept


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stored=st.lists(resident_inputs, max_size=5).map(_unique_keys),
    rows=st.lists(resident_inputs, min_size=1, max_size=12),
    columns=st.sets(st.sampled_from(FIELDS)),
    as_file=st.booleans(),
    drop_last_stored=st.booleans(),
)
def test_bulk_import_equals_one_by_one(stored, rows, columns, as_file, drop_last_stored):
    if as_file:
        # As an import file gives them: the name column always there, the absent columns at
        # their defaults in every row.
        columns = columns | {"name"}
        defaults = ResidentInput(name="x")
        rows = [
            row.model_copy(update={f: getattr(defaults, f) for f in FIELDS if f not in columns})
            for row in rows
        ]
    only = frozenset(columns)
    reference, bulk = asyncio.run(both_ways(stored, rows, only, drop_last_stored=drop_last_stored))
    assert bulk == reference


async def test_rows_of_one_key_are_one_resident_with_the_last_values_of_the_columns(db):
    residents = SqliteResidents(db)
    only = frozenset({"name", "phone", "note"})
    rows = [
        ResidentInput(name="Aili Esimerkki", phone="+358401234567", note="eka", municipality="A"),
        ResidentInput(name="Eero", note="ei puhelinta"),
        ResidentInput(name="AILI esimerkki", phone="+358401234567", note="toka", municipality="B"),
        ResidentInput(name="Eero", note="ei puhelinta"),
    ]
    async with db.transaction():
        result = await residents.import_many(rows, only, AT)
    aili, eero, eero_again = (result[0][0], result[1][0], result[3][0])
    assert result == [(aili, True), (eero, True), (aili, False), (eero_again, True)]
    assert len({aili, eero, eero_again}) == 3
    stored = await residents.get(aili)
    # Not a column of the file: the first row's value, as the later update kept it.
    assert (stored.name, stored.note, stored.municipality) == ("AILI esimerkki", "toka", "A")
    assert stored.created_at == stored.updated_at == AT
    assert await residents.search("aili", None, 10) == [stored]


async def test_an_existing_resident_keeps_what_the_file_has_no_column_for(db):
    residents = SqliteResidents(db)
    async with db.transaction():
        old = await residents.add(
            ResidentInput(name="Aili Esimerkki", phone="+358401234567", street_address="Kuja 1"),
            "+358401234567|aili esimerkki",
            BEFORE,
        )
        result = await residents.import_many(
            [ResidentInput(name="Aili  Esimerkki", phone="+358401234567", note="uusi")],
            frozenset({"name", "phone", "note"}),
            AT,
        )
    assert result == [(old.id, False)]
    stored = await residents.get(old.id)
    assert (stored.name, stored.street_address, stored.note) == (
        "Aili  Esimerkki",
        "Kuja 1",
        "uusi",
    )
    assert (stored.created_at, stored.updated_at) == (BEFORE, AT)


async def test_new_ids_follow_the_largest_as_one_by_one_would(db):
    residents = SqliteResidents(db)
    async with db.transaction():
        for i in range(3):
            await residents.add(ResidentInput(name=f"Asukas {i}"), None, BEFORE)
        await db.connection.execute("DELETE FROM residents WHERE id = 3")
        result = await residents.import_many(
            [ResidentInput(name="Uusi"), ResidentInput(name="Uusi", phone="+358401234567")],
            frozenset(FIELDS),
            AT,
        )
    assert result == [(3, True), (4, True)]
    assert await residents.import_many([], frozenset(FIELDS), AT) == []


@pytest.fixture
async def boss(services):
    return await register(services, Role.COORDINATOR, 1, "Kaisa Koordinaattori")


HEADER = "nimi;puhelin;osoite;huomio\n"


async def test_the_report_names_each_resident_once_in_file_order(services, db, boss):
    cecilia = await services.residents.save(
        boss, ResidentInput(name="Cecilia Malli", phone="+35891234567")
    )
    data = (
        (
            HEADER + "Aili Esimerkki;040 123 4567;Kuja 1;\n"  # row 2: new
            "Eero;;Tie 2;\n"  # row 3: no phone, new
            "aili esimerkki;0401234567;Kuja 3;\n"  # row 4: repeats row 2
            "Cecilia Malli;09 123 4567;;soita ensin\n"  # row 5: stored, updated
            "Eero;;Tie 2;\n"  # row 6: no phone: another new resident
            "Cecilia Malli;+358 9 123 4567;Mallitie 5;\n"  # row 7: repeats row 5
            "Dora;12;;\n"  # row 8: rejected
        ).encode()
    )
    report = await services.residents.import_csv(boss, data)
    assert (report.created, report.updated) == (3, 1)
    assert [(r.row, r.earlier_row) for r in report.repeated] == [(4, 2), (7, 5)]
    assert [r.row for r in report.rejected] == [8]
    assert len(report.resident_ids) == len(set(report.resident_ids)) == 4
    aili, eero, cecilia_id, eero_again = report.resident_ids
    assert cecilia_id == cecilia.resident.id
    names = [(await services.residents.get(boss, i)).name for i in report.resident_ids]
    assert names == ["aili esimerkki", "Eero", "Cecilia Malli", "Eero"]
    stored = await services.residents.get(boss, cecilia_id)
    assert (stored.street_address, stored.note) == ("Mallitie 5", "")

    audit = await db.fetch_all(
        "SELECT actor_id, action, subject_id FROM audit_log WHERE detail = 'import' ORDER BY id"
    )
    assert [tuple(row) for row in audit] == [
        (boss.id, "resident.add", aili),
        (boss.id, "resident.add", eero),
        (boss.id, "resident.update", cecilia_id),
        (boss.id, "resident.add", eero_again),
    ]


async def test_a_report_without_valid_rows_names_nobody(services, boss):
    refused = await services.residents.import_csv(boss, b"nimi;ika\nAili;88\n")
    assert refused.error is not None and refused.resident_ids == ()
    rejected = await services.residents.import_csv(boss, (HEADER + "Dora;12;;\n").encode())
    assert rejected.read and rejected.resident_ids == () and len(rejected.rejected) == 1


async def test_importing_the_same_file_again_names_the_same_residents(services, db, boss):
    data = (HEADER + "Aili Esimerkki;040 123 4567;;\nBengt;050 7654321;;\n").encode()
    first = await services.residents.import_csv(boss, data)
    again = await services.residents.import_csv(boss, data)
    assert again.resident_ids == first.resident_ids
    assert (again.created, again.updated) == (0, 2)
    audit = await db.fetch_all(
        "SELECT action, subject_id FROM audit_log WHERE detail = 'import' ORDER BY id"
    )
    assert [tuple(row) for row in audit] == [
        ("resident.add", first.resident_ids[0]),
        ("resident.add", first.resident_ids[1]),
        ("resident.update", first.resident_ids[0]),
        ("resident.update", first.resident_ids[1]),
    ]


async def test_an_error_after_the_import_rolls_everything_back(db):
    store = SqliteStore(db)
    async with store.transaction():
        await store.residents.add(ResidentInput(name="Vanha", phone="+358401234567"), None, BEFORE)
    before = await snapshot(db)
    rows = [
        ResidentInput(name="Aili", phone="+358501112223", note="uusi"),
        ResidentInput(name="Eero"),
    ]
    with pytest.raises(RuntimeError):
        async with store.transaction():
            result = await store.residents.import_many(rows, frozenset(FIELDS), AT)
            await store.audit.record_many(
                [(AT, None, "resident.add", resident_id, "import") for resident_id, _ in result]
            )
            assert await store.residents.count() == 3
            raise RuntimeError("disk full")
    assert await snapshot(db) == before
    assert not await db.fetch_all("SELECT 1 FROM audit_log")
    assert await temp_tables(db) == []
    async with store.transaction():  # usable again, with the same ids
        assert await store.residents.import_many(rows, frozenset(FIELDS), AT) == result


async def test_record_many_appends_in_order(db):
    store = SqliteStore(db)
    later = AT + timedelta(minutes=1)
    async with store.transaction():
        await store.audit.record_many(
            [(AT, None, "resident.add", 7, "import"), (later, None, "resident.update", 3, None)]
        )
        await store.audit.record_many([])
    rows = await db.fetch_all("SELECT at, actor_id, action, subject_id, detail FROM audit_log")
    assert [tuple(row) for row in rows] == [
        ("2026-11-23T08:00:00.000000+00:00", None, "resident.add", 7, "import"),
        ("2026-11-23T08:01:00.000000+00:00", None, "resident.update", 3, None),
    ]
