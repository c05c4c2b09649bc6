"""The set of services one running bot uses, built by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.services.invites import InviteService
from bot.services.people import PeopleService
from bot.services.ports import Clock, UnitOfWork

__all__ = ["Services", "build_services"]


@dataclass(frozen=True, slots=True)
class Services:
    """Every use case, sharing one unit of work and one clock."""

    people: PeopleService
    invites: InviteService


def build_services(
    uow: UnitOfWork, clock: Clock, *, invite_validity: timedelta, default_language: str
) -> Services:
    """Wire the services to storage and the clock."""
    return Services(
        people=PeopleService(uow, clock),
        invites=InviteService(
            uow, clock, validity=invite_validity, default_language=default_language
        ),
    )
