"""Residents: coordinators add, import and look them up; nobody else sees them here.

A resident with the same phone and name as a stored one is the same person: adding or importing
them again updates the record (`ResidentSave.created` is false) instead of duplicating it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.errors import InvalidValue, ResidentNotFound
from bot.domain.people import Capability, Person
from bot.domain.residents import Resident, ResidentInput, match_key, parse_phone
from bot.domain.tasks import Task
from bot.services.people import require
from bot.services.ports import Clock, UnitOfWork

__all__ = ["SEARCH_LIMIT", "ResidentSave", "ResidentService"]

SEARCH_LIMIT = 10


@dataclass(frozen=True, slots=True)
class ResidentSave:
    """A resident after saving, and whether they were new."""

    resident: Resident
    created: bool


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
