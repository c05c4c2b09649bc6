"""Create invites and register people by redeeming them.

Redemption is one transaction: the invite is marked used (only if it still is unused) in the same
unit of work that creates or updates the person, so two taps on one link register one person once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.errors import (
    AlreadyRegistered,
    InvalidInvite,
    InviteNotFound,
    InviteUsed,
    OrganisationRequired,
)
from bot.domain.invites import (
    LOCKOUT_WINDOW,
    Invite,
    check_redeemable,
    hash_code,
    looks_like_code,
    new_code,
    raise_if_locked,
)
from bot.domain.people import (
    ROLES_NEEDING_ORGANISATION,
    Capability,
    Organisation,
    Person,
    Role,
    normalise_language,
)
from bot.services.people import require
from bot.services.ports import Clock, UnitOfWork

__all__ = ["InviteService", "IssuedInvite", "Redemption"]

_BOT_USERNAME = "bot_username"
_MAX_NAME = 80


@dataclass(frozen=True, slots=True)
class IssuedInvite:
    """A new invite and its code, which exists nowhere else: show it once."""

    code: str
    invite: Invite
    organisation: Organisation | None
    bot_username: str | None

    @property
    def link(self) -> str | None:
        """Return the deep link that opens the bot with the code, when the username is known."""
        if not self.bot_username:
            return None
        return f"https://t.me/{self.bot_username}?start={self.code}"


@dataclass(frozen=True, slots=True)
class Redemption:
    """The outcome of a redeemed invite."""

    person: Person
    role: Role
    newly_registered: bool


class InviteService:
    """Issue one-time invites and redeem them."""

    def __init__(
        self, uow: UnitOfWork, clock: Clock, *, validity: timedelta, default_language: str
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._validity = validity
        self._default_language = default_language

    async def create(
        self,
        actor: Person | None,
        role: Role,
        *,
        name: str | None = None,
        organisation_name: str | None = None,
        organisation_id: int | None = None,
    ) -> IssuedInvite:
        """Issue an invite; `actor` None means the operator on the command line.

        The organisation is named (created on first use) or chosen by id among the existing ones.
        """
        if actor is not None:
            require(actor, Capability.INVITE)
        organisation_name = _clean(organisation_name)
        if role in ROLES_NEEDING_ORGANISATION and not (organisation_name or organisation_id):
            raise OrganisationRequired
        code = new_code()
        now = self._clock()
        async with self._uow.transaction():
            organisation: Organisation | None = None
            if organisation_id is not None:
                organisation = await self._uow.organisations.get(organisation_id)
                if organisation is None:
                    raise OrganisationRequired
            elif organisation_name:
                organisation = await self._uow.organisations.get_or_add(organisation_name, now)
            invite = await self._uow.invites.add(
                code_hash=hash_code(code),
                role=role,
                name=_clean(name),
                organisation_id=organisation.id if organisation else None,
                created_by=actor.id if actor else None,
                created_at=now,
                expires_at=now + self._validity,
            )
            await self._uow.audit.record(
                at=now,
                actor_id=actor.id if actor else None,
                action="invite.create",
                subject_id=invite.id,
                detail=role.value,
            )
        return IssuedInvite(
            code=code,
            invite=invite,
            organisation=organisation,
            bot_username=await self.bot_username(),
        )

    async def redeem(
        self,
        telegram_user_id: int,
        code: str,
        *,
        telegram_name: str,
        language_code: str | None,
    ) -> Redemption:
        """Register the Telegram user with the invite's role, or add the role to them."""
        now = self._clock()
        failures = await self._uow.invites.failures_since(telegram_user_id, now - LOCKOUT_WINDOW)
        raise_if_locked(failures, now)
        try:
            invite = await self._redeemable(code, now, telegram_user_id)
            async with self._uow.transaction():
                redemption = await self._register(
                    invite, telegram_user_id, telegram_name, language_code, now
                )
                if not await self._uow.invites.mark_used(invite.id, redemption.person.id, now):
                    raise InviteUsed  # a concurrent tap won; this transaction rolls back
                await self._uow.audit.record(
                    at=now,
                    actor_id=redemption.person.id,
                    action="invite.redeem",
                    subject_id=invite.id,
                    detail=invite.role.value,
                )
        except InvalidInvite:
            async with self._uow.transaction():
                await self._uow.invites.record_failure(telegram_user_id, now)
                await self._uow.invites.forget_failures_before(now - 24 * LOCKOUT_WINDOW)
            raise
        person = await self._uow.people.get(redemption.person.id)
        assert person is not None
        return Redemption(
            person=person, role=invite.role, newly_registered=redemption.newly_registered
        )

    async def remember_bot_username(self, username: str) -> None:
        """Store the bot's username so that the command line can build invite links."""
        if username and username != await self.bot_username():
            async with self._uow.transaction():
                await self._uow.facts.put(_BOT_USERNAME, username)

    async def bot_username(self) -> str | None:
        """Return the bot's username as last seen, or None before the first start."""
        return await self._uow.facts.get(_BOT_USERNAME)

    async def organisations(self) -> list[Organisation]:
        """Return every organisation, for choosing one."""
        return await self._uow.organisations.all()

    async def _redeemable(self, code: str, now: datetime, telegram_user_id: int) -> Invite:
        invite = (
            await self._uow.invites.by_code_hash(hash_code(code)) if looks_like_code(code) else None
        )
        if invite is None:
            raise InviteNotFound
        if invite.used_by is not None:
            holder = await self._uow.people.get(invite.used_by)
            if holder is not None and holder.telegram_user_id == telegram_user_id:
                raise AlreadyRegistered  # their own link, opened again: not a wrong code
        check_redeemable(invite, now)
        return invite

    async def _register(
        self,
        invite: Invite,
        telegram_user_id: int,
        telegram_name: str,
        language_code: str | None,
        now: datetime,
    ) -> Redemption:
        existing = await self._uow.people.by_telegram_id(telegram_user_id)
        if existing is None:
            person = await self._uow.people.add(
                telegram_user_id=telegram_user_id,
                name=invite.name or _clean(telegram_name) or str(telegram_user_id),
                language=normalise_language(language_code, self._default_language),
                organisation_id=invite.organisation_id,
                role=invite.role,
                at=now,
            )
            return Redemption(person=person, role=invite.role, newly_registered=True)
        if existing.active and invite.role in existing.roles:
            raise AlreadyRegistered
        if invite.role not in existing.roles:
            await self._uow.people.grant_role(existing.id, invite.role, now)
        if not existing.active:
            await self._uow.people.set_active(existing.id, True, now)
        if existing.organisation is None and invite.organisation_id is not None:
            await self._uow.people.set_organisation(existing.id, invite.organisation_id)
        return Redemption(person=existing, role=invite.role, newly_registered=False)


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())[:_MAX_NAME]
    return text or None
