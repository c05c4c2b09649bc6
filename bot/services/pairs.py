"""Pairs and availability: coordinators form and dissolve pairs; volunteers say when and where.

Dissolving a pair gives its held tasks back to the coordinators and withdraws its offers (through
`DispatchService`), so no task is left with a holder that no longer exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.errors import NotAllowed, PairNotFound, PersonInPair, PersonNotFound
from bot.domain.pairs import Pair
from bot.domain.people import Capability, Person, Role
from bot.services.dispatch import DispatchService, Released
from bot.services.people import require
from bot.services.ports import Clock, UnitOfWork

__all__ = ["Availability", "Dissolved", "Formed", "PairService"]


@dataclass(frozen=True, slots=True)
class Availability:
    """Whether a person takes offers, where, and with whom."""

    available: bool
    areas: frozenset[str]
    pair: Pair | None


@dataclass(frozen=True, slots=True)
class Dissolved:
    """A dissolved pair and the tasks it gave back."""

    pair: Pair
    released: list[Released]


@dataclass(frozen=True, slots=True)
class Formed:
    """A pair, and whether it was formed just now (false: the same two were paired already)."""

    pair: Pair
    new: bool


class PairService:
    """Form and dissolve pairs; set availability and areas."""

    def __init__(self, uow: UnitOfWork, clock: Clock, dispatch: DispatchService) -> None:
        self._uow = uow
        self._clock = clock
        self._dispatch = dispatch

    async def form(
        self, actor: Person, first_id: int, second_id: int, organisation_id: int | None = None
    ) -> Pair:
        """Pair two active people who are in no current pair."""
        formed = await self.pair_up(actor, first_id, second_id, organisation_id)
        if not formed.new:
            raise PersonInPair
        return formed.pair

    async def pair_up(
        self, actor: Person, first_id: int, second_id: int, organisation_id: int | None = None
    ) -> Formed:
        """Pair two people like `form`; the same two already paired together is no error.

        A double tap on the last button of /pair must not fail, nor tell the two twice.
        """
        require(actor, Capability.DISPATCH)
        if first_id == second_id:
            raise PersonInPair
        async with self._uow.transaction():
            existing = await self._uow.pairs.current_of(first_id)
            if existing is not None and {m.id for m in existing.members} == {first_id, second_id}:
                return Formed(pair=existing, new=False)
            for person_id in (first_id, second_id):
                person = await self._uow.people.get(person_id)
                if person is None or not person.active:
                    raise PersonNotFound
                if not person.can(Capability.TAKE_TASKS):
                    raise NotAllowed("take_tasks")
                if await self._uow.pairs.current_of(person_id) is not None:
                    raise PersonInPair
            if organisation_id is not None and not await self._uow.organisations.get(
                organisation_id
            ):
                raise PersonNotFound
            now = self._clock()
            pair = await self._uow.pairs.add((first_id, second_id), organisation_id, actor.id, now)
            await self._uow.audit.record(
                at=now, actor_id=actor.id, action="pair.form", subject_id=pair.id
            )
        return Formed(pair=pair, new=True)

    async def dissolve(self, actor: Person, pair_id: int) -> Dissolved:
        """End a pair; its tasks go back to the coordinators in the same transaction."""
        pair, released = await self._dispatch.dissolve_pair(actor, pair_id)
        return Dissolved(pair=pair, released=released)

    async def current(self, actor: Person) -> list[Pair]:
        """Return every current pair, for a coordinator."""
        require(actor, Capability.DISPATCH)
        return await self._uow.pairs.current()

    async def get(self, actor: Person, pair_id: int) -> Pair:
        """Return one pair, for a coordinator."""
        require(actor, Capability.DISPATCH)
        pair = await self._uow.pairs.get(pair_id)
        if pair is None:
            raise PairNotFound
        return pair

    async def unpaired(self, actor: Person) -> list[Person]:
        """Return the active volunteers who are in no current pair."""
        require(actor, Capability.DISPATCH)
        return await self._uow.pairs.unpaired(Role.VOLUNTEER)

    async def availability(self, person: Person) -> Availability:
        """Return the person's availability, areas and pair."""
        fresh = await self._uow.people.get(person.id)
        return Availability(
            available=bool(fresh and fresh.available),
            areas=await self._uow.pairs.areas_of(person.id),
            pair=await self._uow.pairs.current_of(person.id),
        )

    async def set_available(self, person: Person, available: bool) -> Availability:
        """Take offers from now on, or not."""
        require(person, Capability.SET_AVAILABILITY)
        async with self._uow.transaction():
            await self._uow.people.set_available(person.id, available)
        return await self.availability(person)

    async def set_areas(self, person: Person, areas: frozenset[str]) -> Availability:
        """Replace the postal-code prefixes the person covers (empty: everywhere)."""
        require(person, Capability.SET_AVAILABILITY)
        async with self._uow.transaction():
            await self._uow.pairs.set_areas(person.id, areas)
        return await self.availability(person)
