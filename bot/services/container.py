"""The set of services one running bot uses, built by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from bot.services.broadcasts import BroadcastService
from bot.services.campaigns import CampaignService
from bot.services.dispatch import DispatchService
from bot.services.invites import InviteService
from bot.services.meetings import MeetingService
from bot.services.outcomes import FormCatalog, OutcomeService
from bot.services.pairs import PairService
from bot.services.people import PeopleService
from bot.services.ports import Clock, UnitOfWork
from bot.services.residents import ResidentService

__all__ = ["Services", "build_services"]


@dataclass(frozen=True, slots=True)
class Services:
    """Every use case, sharing one unit of work and one clock."""

    clock: Clock
    people: PeopleService
    invites: InviteService
    residents: ResidentService
    dispatch: DispatchService
    pairs: PairService
    outcomes: OutcomeService
    meetings: MeetingService
    broadcasts: BroadcastService
    campaigns: CampaignService


def build_services(
    uow: UnitOfWork,
    clock: Clock,
    *,
    invite_validity: timedelta,
    default_language: str,
    offer_timeout: timedelta = timedelta(hours=4),
    reminder_lead: timedelta = timedelta(hours=1),
    forms: FormCatalog,
    zone: ZoneInfo,
    phone_attempts: int = 2,
    draft_reminder: timedelta = timedelta(hours=2),
    draft_expiry: timedelta = timedelta(hours=48),
    parish: str = "",
    meeting_grace: timedelta = timedelta(minutes=10),
    digest_at: time | None = None,
    broadcast_max_file_bytes: int = 20 * 1024 * 1024,
    broadcast_attempts: int = 5,
    call_claim: timedelta = timedelta(minutes=30),
) -> Services:
    """Wire the services to storage and the clock."""
    dispatch = DispatchService(uow, clock, offer_timeout=offer_timeout, reminder_lead=reminder_lead)
    broadcasts = BroadcastService(
        uow,
        clock,
        dispatch,
        max_file_bytes=broadcast_max_file_bytes,
        attempts=broadcast_attempts,
    )
    residents = ResidentService(uow, clock)
    campaigns = CampaignService(
        uow,
        clock,
        dispatch,
        broadcasts,
        residents,
        zone=zone,
        claim_timeout=call_claim,
        attempts=phone_attempts,
    )
    return Services(
        clock=clock,
        people=PeopleService(uow, clock),
        invites=InviteService(
            uow, clock, validity=invite_validity, default_language=default_language
        ),
        residents=residents,
        dispatch=dispatch,
        pairs=PairService(uow, clock, dispatch),
        outcomes=OutcomeService(
            uow,
            clock,
            dispatch,
            forms,
            zone=zone,
            phone_attempts=phone_attempts,
            draft_reminder=draft_reminder,
            draft_expiry=draft_expiry,
            parish=parish,
            campaigns=campaigns,
        ),
        meetings=MeetingService(uow, clock, zone=zone, grace=meeting_grace, digest_at=digest_at),
        broadcasts=broadcasts,
        campaigns=campaigns,
    )
