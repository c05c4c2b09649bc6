"""The ports: what the services need from storage, as Protocols.

Every write happens inside `UnitOfWork.transaction()`; a unit of work either commits whole or leaves
the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from bot.domain.invites import Invite
from bot.domain.people import Organisation, Person, Role

__all__ = [
    "AuditLog",
    "BotFacts",
    "Clock",
    "InviteRepository",
    "OrganisationRepository",
    "PeopleRepository",
    "UnitOfWork",
]

Clock = Callable[[], datetime]


class PeopleRepository(Protocol):
    async def get(self, person_id: int) -> Person | None: ...
    async def by_telegram_id(self, telegram_user_id: int) -> Person | None: ...
    async def add(
        self,
        *,
        telegram_user_id: int,
        name: str,
        language: str,
        organisation_id: int | None,
        role: Role,
        at: datetime,
    ) -> Person: ...
    async def page(self, *, offset: int, limit: int) -> list[Person]: ...
    async def count(self) -> int: ...
    async def count_active_with_role(self, role: Role) -> int: ...
    async def set_language(self, person_id: int, language: str) -> None: ...
    async def set_active(self, person_id: int, active: bool, at: datetime) -> None: ...
    async def set_organisation(self, person_id: int, organisation_id: int | None) -> None: ...
    async def grant_role(self, person_id: int, role: Role, at: datetime) -> None: ...
    async def revoke_role(self, person_id: int, role: Role) -> None: ...


class OrganisationRepository(Protocol):
    async def get_or_add(self, name: str, at: datetime) -> Organisation: ...
    async def all(self) -> list[Organisation]: ...
    async def get(self, organisation_id: int) -> Organisation | None: ...


class InviteRepository(Protocol):
    async def add(
        self,
        *,
        code_hash: str,
        role: Role,
        name: str | None,
        organisation_id: int | None,
        created_by: int | None,
        created_at: datetime,
        expires_at: datetime,
    ) -> Invite: ...
    async def by_code_hash(self, code_hash: str) -> Invite | None: ...
    async def mark_used(self, invite_id: int, person_id: int, at: datetime) -> bool: ...
    async def record_failure(self, telegram_user_id: int, at: datetime) -> None: ...
    async def failures_since(self, telegram_user_id: int, since: datetime) -> list[datetime]: ...
    async def forget_failures_before(self, before: datetime) -> None: ...


class AuditLog(Protocol):
    async def record(
        self,
        *,
        at: datetime,
        actor_id: int | None,
        action: str,
        subject_id: int | None = None,
        detail: str | None = None,
    ) -> None: ...


class BotFacts(Protocol):
    async def get(self, key: str) -> str | None: ...
    async def put(self, key: str, value: str) -> None: ...


class UnitOfWork(Protocol):
    people: PeopleRepository
    organisations: OrganisationRepository
    invites: InviteRepository
    audit: AuditLog
    facts: BotFacts

    def transaction(self) -> AbstractAsyncContextManager[object]: ...
