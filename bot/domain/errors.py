"""Domain errors: each names a rule that was broken, never a technical fault.

Handlers map each error to a message in the user's language; nothing has changed when one is raised.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "AlreadyRegistered",
    "DomainError",
    "InvalidInvite",
    "InviteExpired",
    "InviteNotFound",
    "InviteUsed",
    "LastCoordinator",
    "LastRole",
    "NotAllowed",
    "OrganisationRequired",
    "PersonNotFound",
    "SelfManagement",
    "TooManyAttempts",
]


class DomainError(Exception):
    """A rule of the domain forbids what was asked; nothing was changed."""


class NotAllowed(DomainError):
    """The person's roles do not allow this action."""


class PersonNotFound(DomainError):
    """No such person, or not visible to the one asking."""


class InvalidInvite(DomainError):
    """An invite code could not be redeemed."""


class InviteNotFound(InvalidInvite):
    """No invite has this code."""


class InviteUsed(InvalidInvite):
    """The invite was redeemed already."""


class InviteExpired(InvalidInvite):
    """The invite is past its expiry time."""


class AlreadyRegistered(DomainError):
    """The person already holds the invite's role."""


class TooManyAttempts(DomainError):
    """Too many wrong codes in the last hour; tries are locked until `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


class OrganisationRequired(DomainError):
    """The role needs an organisation (a partner belongs to one)."""


class LastCoordinator(DomainError):
    """The change would leave nobody with the coordinator role."""


class SelfManagement(DomainError):
    """A coordinator may not deactivate themself."""


class LastRole(DomainError):
    """A person must keep at least one role; deactivate them instead."""
