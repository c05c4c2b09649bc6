"""Importing residents into SQLite: one transaction, updates not duplicates, all or nothing."""

import pytest

from bot.domain.errors import NotAllowed
from bot.domain.people import Role
from bot.domain.residents import ResidentInput
from tests.integration.helpers import register

HEADER = "nimi;puhelin;katuosoite;postinumero;kunta;syntymävuosi;kieli\n"
GOOD = (
    HEADER + "Aili Esimerkki;040 123 4567;Kotikatu 1;00100;Helsinki;1938;fi\n"
    "Bengt Exempel;+358 50 765 4321;Hemvägen 3;65100;Vaasa;1944;sv\n"
    "Cecilia Malli;09 123 4567;Mallitie 5;33100;Tampere;1950;en\n"
)


@pytest.fixture
async def boss(services):
    return await register(services, Role.COORDINATOR, 1, "Kaisa Koordinaattori")


async def count(db):
    return await db.fetch_value("SELECT count(*) FROM residents")


async def test_valid_rows_are_written_and_rejected_rows_reported(services, db, boss):
    data = (GOOD + "Dora;12;;;;;\nEero;040 1111111;;1;;;\n").encode()
    report = await services.residents.import_csv(boss, data)
    assert report.read and report.error is None
    assert (report.created, report.updated) == (3, 0)
    assert [row.row for row in report.rejected] == [5, 6]
    assert await count(db) == 3
    (aili,) = await services.residents.find(boss, "040 123 4567")
    assert aili.name == "Aili Esimerkki" and aili.municipality == "Helsinki"
    audit = await db.fetch_all(
        "SELECT actor_id, action, detail FROM audit_log WHERE detail = ?", ("import",)
    )
    assert [(row[0], row[1]) for row in audit] == [(boss.id, "resident.add")] * 3


async def test_importing_the_same_file_again_updates_instead_of_duplicating(services, db, boss):
    await services.residents.import_csv(boss, GOOD.encode())
    changed = GOOD.replace("Kotikatu 1;00100;Helsinki", "Uusikatu 9;00200;Helsinki")
    changed = changed.replace("Aili Esimerkki", "AILI  esimerkki")  # case and spacing aside
    report = await services.residents.import_csv(boss, changed.encode())
    assert (report.created, report.updated) == (0, 3)
    assert await count(db) == 3
    (aili,) = await services.residents.find(boss, "+358401234567")
    assert aili.street_address == "Uusikatu 9" and aili.postal_code == "00200"


async def test_a_resident_added_in_chat_is_updated_by_an_import(services, db, boss):
    saved = await services.residents.save(
        boss, ResidentInput(name="Aili Esimerkki", phone="+358401234567")
    )
    report = await services.residents.import_csv(boss, GOOD.encode())
    assert (report.created, report.updated) == (2, 1)
    assert (await services.residents.get(boss, saved.resident.id)).municipality == "Helsinki"


async def test_the_same_person_twice_in_a_file_is_one_resident_with_the_later_values(
    services, db, boss
):
    data = (GOOD + "Aili Esimerkki;+358401234567;Toinen tie 2;00100;Helsinki;1938;fi\n").encode()
    report = await services.residents.import_csv(boss, data)
    assert (report.created, report.updated) == (3, 0)
    assert [(r.row, r.earlier_row) for r in report.repeated] == [(5, 2)]
    assert await count(db) == 3
    (aili,) = await services.residents.find(boss, "Aili")
    assert aili.street_address == "Toinen tie 2"


async def test_a_file_level_error_writes_nothing(services, db, boss):
    for data in (
        "nimi;ikä\nAili;88\n".encode(),
        GOOD.encode("cp1252"),
        (GOOD + '"broken;040 1\n').encode(),
        b"",
    ):
        report = await services.residents.import_csv(boss, data)
        assert not report.read and report.error is not None
        assert (report.created, report.updated, report.rejected) == (0, 0, ())
    assert await count(db) == 0
    assert not await db.fetch_all("SELECT 1 FROM audit_log WHERE detail = 'import'")


async def test_a_failure_half_way_rolls_back_every_row(services, db, boss, monkeypatch):
    residents = services.residents
    audit = residents._uow.audit
    calls = 0

    async def failing_after_the_residents_are_written(entries):
        nonlocal calls
        calls += 1
        assert await count(db) == 3  # written, not yet committed
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record_many", failing_after_the_residents_are_written)
    with pytest.raises(RuntimeError):
        await residents.import_csv(boss, GOOD.encode())
    assert calls == 1
    assert await count(db) == 0
    monkeypatch.undo()
    report = await residents.import_csv(boss, GOOD.encode())  # the database is usable again
    assert report.created == 3


async def test_only_coordinators_import(services, db, boss):
    helper = await register(services, Role.VOLUNTEER, 2, "Ville Vapaa")
    with pytest.raises(NotAllowed):
        await services.residents.import_csv(helper, GOOD.encode())
    assert await count(db) == 0


async def test_the_command_line_imports_without_an_actor(services, db):
    report = await services.residents.import_csv(None, GOOD.encode(), default_language="sv")
    assert report.created == 3
    audit = await db.fetch_all("SELECT actor_id FROM audit_log WHERE detail = 'import'")
    assert [row[0] for row in audit] == [None] * 3


async def test_a_big_import_is_one_transaction(services, db, boss):
    rows = "".join(f"Asukas {i};040 {1000000 + i};;;;;\n" for i in range(2000))
    report = await services.residents.import_csv(boss, (HEADER + rows).encode())
    assert report.created == 2000 and not report.rejected
    assert await count(db) == 2000


async def test_an_update_changes_only_the_columns_the_file_has(services, boss):
    full = "nimi;puhelin;osoite;postinumero;kieli\nAili Esimerkki;0401234567;Kuja 1;70100;sv\n"
    await services.residents.import_csv(boss, full.encode())
    notes = "nimi;puhelin;huomio\nAili Esimerkki;040 123 4567;kuulee huonosti\n"
    report = await services.residents.import_csv(boss, notes.encode())
    assert (report.created, report.updated) == (0, 1)
    (aili,) = await services.residents.find(boss, "Aili")
    assert (aili.street_address, aili.postal_code, aili.language) == ("Kuja 1", "70100", "sv")
    assert aili.note == "kuulee huonosti"
