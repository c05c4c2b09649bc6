"""Residents: coordinators add, import and look them up; nobody else sees them here.

A resident with the same phone and name as a stored one is the same person: adding or importing
them again updates the record (`ResidentSave.created` is false) instead of duplicating it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.domain.errors import InvalidValue, ResidentNotFound
from bot.domain.people import Capability, Person
from bot.domain.resident_import import InvalidFile, RejectedRow, RepeatedRow, read_residents
from bot.domain.residents import (
    Resident,
    ResidentInput,
    match_key,
    parse_field,
    parse_phone,
)
from bot.domain.tasks import Task
from bot.services.people import require
from bot.services.ports import Clock, UnitOfWork

__all__ = ["SEARCH_LIMIT", "ImportReport", "ResidentSave", "ResidentService"]

SEARCH_LIMIT = 10


@dataclass(frozen=True, slots=True)
class ResidentSave:
    """A resident after saving, and whether they were new."""

    resident: Resident
    created: bool


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did: counts, rows not imported and why, or why the file was refused.

    `created + updated + len(repeated)` is the number of valid rows; a repeated row updated the
    resident an earlier row of the same file created or updated. `resident_ids` are the residents
    of the valid rows, each once, in file order: the people a campaign over this file calls.
    """

    created: int = 0
    updated: int = 0
    repeated: tuple[RepeatedRow, ...] = ()
    rejected: tuple[RejectedRow, ...] = ()
    error: InvalidFile | None = None
    resident_ids: tuple[int, ...] = ()

    @property
    def read(self) -> bool:
        """Return whether the file could be read (rows may still have been rejected)."""
        return self.error is None


class ResidentService:
    """Add, find and show residents."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def save(self, actor: Person | None, resident: ResidentInput) -> ResidentSave:
        """Store a resident, or update the one with the same phone and name."""
        if actor is not None:
            require(actor, Capability.MANAGE_RESIDENTS)
        async with self._uow.transaction():
            saved = await self._upsert(resident)
            await self._uow.audit.record(
                at=self._clock(),
                actor_id=actor.id if actor else None,
                action="resident.add" if saved.created else "resident.update",
                subject_id=saved.resident.id,
            )
        return saved

    async def _upsert(self, resident: ResidentInput) -> ResidentSave:
        """Insert or update inside the caller's transaction."""
        now = self._clock()
        key = match_key(resident.name, resident.phone)
        existing = await self._uow.residents.by_match_key(key) if key else None
        if existing is None:
            return ResidentSave(await self._uow.residents.add(resident, key, now), created=True)
        await self._uow.residents.update(existing.id, resident, key, now)
        updated = await self._uow.residents.get(existing.id)
        assert updated is not None
        return ResidentSave(updated, created=False)

    def check_field(self, field: str, raw: str) -> object:
        """Return the checked value of one typed field, or raise `InvalidValue`."""
        return parse_field(field, raw, self._clock().year)

    async def import_csv(
        self, actor: Person | None, data: bytes, *, default_language: str = "fi"
    ) -> ImportReport:
        """Import residents from CSV bytes: every valid row in one transaction, or nothing.

        An update changes just the fields that are columns of the file, so a file of names and
        notes does not wipe the addresses already stored. The audit trail gets one entry per
        resident added or updated, however many rows of the file name them.
        """
        if actor is not None:
            require(actor, Capability.MANAGE_RESIDENTS)
        try:
            # Up to 10 MB of parsing and checking: off the event loop, so the bot keeps answering.
            parsed = await asyncio.to_thread(
                read_residents, data, self._clock().year, default_language
            )
        except InvalidFile as error:
            return ImportReport(error=error)
        repeats = {repeat.row for repeat in parsed.repeated}
        created = updated = 0
        resident_ids: dict[int, bool] = {}  # in file order: whether the import created them
        if parsed.valid:
            async with self._uow.transaction():
                now = self._clock()
                saved = await self._uow.residents.import_many(
                    [row.resident for row in parsed.valid], frozenset(parsed.columns), now
                )
                for row, (resident_id, was_created) in zip(parsed.valid, saved, strict=True):
                    resident_ids.setdefault(resident_id, was_created)
                    if was_created:
                        created += 1
                    elif row.row not in repeats:
                        updated += 1
                actor_id = actor.id if actor else None
                await self._uow.audit.record_many(
                    [
                        (
                            now,
                            actor_id,
                            "resident.add" if was_created else "resident.update",
                            resident_id,
                            "import",
                        )
                        for resident_id, was_created in resident_ids.items()
                    ]
                )
        return ImportReport(
            created=created,
            updated=updated,
            repeated=parsed.repeated,
            rejected=parsed.rejected,
            resident_ids=tuple(resident_ids),
        )

    async def get(self, actor: Person, resident_id: int) -> Resident:
        """Return one resident, for a coordinator."""
        require(actor, Capability.MANAGE_RESIDENTS)
        resident = await self._uow.residents.get(resident_id)
        if resident is None:
            raise ResidentNotFound
        return resident

    async def find(self, actor: Person, text: str) -> list[Resident]:
        """Return residents whose name contains the text, or whose phone it is."""
        require(actor, Capability.MANAGE_RESIDENTS)
        text = " ".join(text.split())
        if not text:
            return []
        try:
            phone: str | None = parse_phone(text)
        except InvalidValue:
            phone = None
        return await self._uow.residents.search(text, phone, SEARCH_LIMIT)

    async def history(self, actor: Person, resident_id: int) -> list[Task]:
        """Return the resident's tasks, newest first, for a coordinator."""
        await self.get(actor, resident_id)
        return await self._uow.tasks.of_resident(resident_id)
