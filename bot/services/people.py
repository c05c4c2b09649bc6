"""Who is who: identify people, and let coordinators see and manage them.

Every method that changes someone else re-checks the actor's capability here, whatever the caller
checked before; the rules that protect the network (never zero coordinators, nobody without a role,
no self-deactivation) live in `_guard_*`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.domain.errors import (
    LastCoordinator,
    LastRole,
    NotAllowed,
    OrganisationRequired,
    PersonNotFound,
    SelfManagement,
)
from bot.domain.people import (
    ROLES_NEEDING_ORGANISATION,
    SUPPORTED_LANGUAGES,
    Capability,
    Person,
    Role,
)
from bot.services.ports import Clock, UnitOfWork

__all__ = ["PeoplePage", "PeopleService", "RoleChange", "require"]

PAGE_SIZE = 10


def require(actor: Person, capability: Capability) -> None:
    """Raise `NotAllowed` unless the actor is active and has the capability."""
    if not actor.can(capability):
        raise NotAllowed(capability.value)


@dataclass(frozen=True, slots=True)
class PeoplePage:
    """One page of the people list."""

    people: list[Person]
    page: int
    pages: int
    total: int


@dataclass(frozen=True, slots=True)
class RoleChange:
    """A person after a role change, and whether anything changed (a double tap changes nothing)."""

    person: Person
    changed: bool


class PeopleService:
    """Identify people and manage their roles and access."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def identify(self, telegram_user_id: int) -> Person | None:
        """Return the person behind a Telegram user, active or not, or None."""
        return await self._uow.people.by_telegram_id(telegram_user_id)

    async def set_language(self, person: Person, language: str) -> Person:
        """Remember the person's interface language."""
        if language not in SUPPORTED_LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        async with self._uow.transaction():
            await self._uow.people.set_language(person.id, language)
        return person.model_copy(update={"language": language})

    async def unreachable(self, person_id: int) -> None:
        """Note that the bot cannot reach the person (they blocked it); the first time counts."""
        async with self._uow.transaction():
            person = await self._uow.people.get(person_id)
            if person is not None and person.unreachable_since is None:
                await self._uow.people.set_unreachable(person_id, self._clock())

    async def reachable(self, person_id: int) -> None:
        """Note that the bot reaches the person again; nothing is written when it already did."""
        person = await self._uow.people.get(person_id)
        if person is None or person.unreachable_since is None:
            return
        async with self._uow.transaction():
            await self._uow.people.set_unreachable(person_id, None)

    async def page(self, actor: Person, page: int) -> PeoplePage:
        """Return one page of everyone registered, for a coordinator."""
        require(actor, Capability.MANAGE_PEOPLE)
        total = await self._uow.people.count()
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page = min(max(page, 1), pages)
        people = await self._uow.people.page(offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        return PeoplePage(people=people, page=page, pages=pages, total=total)

    async def get(self, actor: Person, person_id: int) -> Person:
        """Return a person, for a coordinator."""
        require(actor, Capability.MANAGE_PEOPLE)
        return await self._existing(person_id)

    async def deactivate(self, actor: Person, person_id: int) -> Person:
        """End a person's access at once; their record stays for the history."""
        require(actor, Capability.MANAGE_PEOPLE)
        async with self._uow.transaction():
            target = await self._existing(person_id)
            if target.id == actor.id:
                raise SelfManagement
            if not target.active:
                return target
            if Role.COORDINATOR in target.roles:
                await self._guard_coordinators_remain()
            now = self._clock()
            await self._uow.people.set_active(target.id, False, now)
            await self._uow.audit.record(
                at=now, actor_id=actor.id, action="person.deactivate", subject_id=target.id
            )
        return await self._existing(person_id)

    async def reactivate(self, actor: Person, person_id: int) -> Person:
        """Give a deactivated person their access back, with the roles they had."""
        require(actor, Capability.MANAGE_PEOPLE)
        async with self._uow.transaction():
            target = await self._existing(person_id)
            if not target.active:
                now = self._clock()
                await self._uow.people.set_active(target.id, True, now)
                await self._uow.audit.record(
                    at=now, actor_id=actor.id, action="person.reactivate", subject_id=target.id
                )
        return await self._existing(person_id)

    async def grant_role(self, actor: Person, person_id: int, role: Role) -> RoleChange:
        """Give a person one more role; granting a role they hold changes nothing."""
        require(actor, Capability.MANAGE_PEOPLE)
        async with self._uow.transaction():
            target = await self._existing(person_id)
            if role in ROLES_NEEDING_ORGANISATION and target.organisation is None:
                raise OrganisationRequired
            changed = role not in target.roles
            if changed:
                now = self._clock()
                await self._uow.people.grant_role(target.id, role, now)
                await self._uow.audit.record(
                    at=now,
                    actor_id=actor.id,
                    action="person.grant_role",
                    subject_id=target.id,
                    detail=role.value,
                )
        return RoleChange(await self._existing(person_id), changed)

    async def revoke_role(self, actor: Person, person_id: int, role: Role) -> RoleChange:
        """Take a role away; the last role and the last coordinator are protected."""
        require(actor, Capability.MANAGE_PEOPLE)
        async with self._uow.transaction():
            target = await self._existing(person_id)
            changed = role in target.roles
            if changed:
                if len(target.roles) == 1:
                    raise LastRole
                if role is Role.COORDINATOR and target.active:
                    await self._guard_coordinators_remain()
                await self._uow.people.revoke_role(target.id, role)
                await self._uow.audit.record(
                    at=self._clock(),
                    actor_id=actor.id,
                    action="person.revoke_role",
                    subject_id=target.id,
                    detail=role.value,
                )
        return RoleChange(await self._existing(person_id), changed)

    async def _existing(self, person_id: int) -> Person:
        person = await self._uow.people.get(person_id)
        if person is None:
            raise PersonNotFound
        return person

    async def _guard_coordinators_remain(self) -> None:
        if await self._uow.people.count_active_with_role(Role.COORDINATOR) <= 1:
            raise LastCoordinator
