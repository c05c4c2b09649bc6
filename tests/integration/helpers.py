"""Helpers shared by the integration tests."""

from bot.domain.people import Person, Role


async def register(services, role: Role, user: int, name: str) -> Person:
    """Invite and register a person through the real services."""
    issued = await services.invites.create(None, role, name=name)
    redeemed = await services.invites.redeem(
        user, issued.code, telegram_name=name, language_code="fi"
    )
    return redeemed.person
