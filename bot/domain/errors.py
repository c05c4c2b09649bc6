"""Domain errors: each names a rule that was broken, never a technical fault.

Handlers map each error to a message in the user's language; nothing has changed when one is raised.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "AlreadyRegistered",
    "DomainError",
    "DraftNotFound",
    "DraftTaken",
    "GroupUnavailable",
    "IllegalTransition",
    "InvalidInvite",
    "InvalidValue",
    "InviteExpired",
    "InviteNotFound",
    "InviteUsed",
    "LastCoordinator",
    "LastRole",
    "MeetingNotFound",
    "MeetingOver",
    "NotAllowed",
    "NotInAudience",
    "NotYourTask",
    "OccurrenceNotFound",
    "OrganisationRequired",
    "PairNotFound",
    "PersonInPair",
    "PersonNotFound",
    "ReferralNotFound",
    "ReferralTaken",
    "ResidentNotFound",
    "SelfManagement",
    "StaleStep",
    "TaskNotFound",
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


class InvalidValue(DomainError):
    """A value typed or imported is not acceptable; `field` and `reason` say which and why.

    `reason` is a language-neutral code (e.g. `phone.format`) that the adapters translate.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class ResidentNotFound(DomainError):
    """No such resident."""


class PairNotFound(DomainError):
    """No such pair, or it was dissolved."""


class PersonInPair(DomainError):
    """The person is in another current pair already."""


class TaskNotFound(DomainError):
    """No such task, or not visible to the one asking."""


class NotYourTask(DomainError):
    """The task is held by someone else, or its offer was not made to this person."""


class IllegalTransition(DomainError):
    """The task's state does not allow the action (already taken, cancelled or finished)."""

    def __init__(self, state: str, action: str) -> None:
        super().__init__(f"{action} is not possible in state {state}")
        self.state = state
        self.action = action


class DraftNotFound(DomainError):
    """The outcome form is no longer open: submitted, cancelled or expired."""


class StaleStep(DomainError):
    """A button of an earlier step of a form was pressed (a double tap, an old message)."""


class DraftTaken(DomainError):
    """The partner is filling in the task's outcome form already."""

    def __init__(self, name: str) -> None:
        super().__init__("a partner is filling in the form")
        self.name = name


class ReferralNotFound(DomainError):
    """The referral does not exist, or it is not for this person."""


class ReferralTaken(DomainError):
    """Someone else took the referral already."""


class MeetingNotFound(DomainError):
    """No such meeting (it may have been deleted)."""


class OccurrenceNotFound(DomainError):
    """The meeting does not take place on that day (not one of its days, or cancelled)."""


class MeetingOver(DomainError):
    """That occurrence of the meeting has ended; answers and changes are closed."""


class GroupUnavailable(DomainError):
    """The bot is not a member of that group chat (never added, or removed)."""


class NotInAudience(DomainError):
    """The person is not among the meeting's attendees."""
