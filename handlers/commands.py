"""The bot's commands: who may use which, and the per-person command menus in Telegram.

`COMMANDS` is the one list: `/help` and the menus are built from it, so a person sees exactly the
commands their roles allow, in their language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.domain.people import SUPPORTED_LANGUAGES, Capability, Person
from bot.i18n import N_, Translator, translators

__all__ = ["COMMANDS", "Command", "commands_for", "publish_default_menus", "publish_menu_of"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Command:
    """A slash command, its translatable description and what it needs."""

    name: str
    description: str
    needs: Capability | None = None
    registered: bool = False  # for every registered person, whatever their roles


COMMANDS: tuple[Command, ...] = (
    Command("start", N_("Start, or register with an invite code")),
    Command("help", N_("What I can do for you")),
    Command("whoami", N_("Your name, roles and language")),
    Command("language", N_("Change the language")),
    Command("invite", N_("Invite a person: /invite volunteer"), Capability.INVITE),
    Command("people", N_("People, their roles and access"), Capability.MANAGE_PEOPLE),
    Command(
        "resident",
        N_("Residents: /resident new, or find by name or phone"),
        Capability.MANAGE_RESIDENTS,
    ),
    Command("newtask", N_("Create a task for a resident"), Capability.DISPATCH),
    Command("open", N_("Unfinished tasks by state"), Capability.DISPATCH),
    Command("tasks", N_("Your tasks"), Capability.TAKE_TASKS),
    Command("task", N_("One task and its history: /task 12"), Capability.TAKE_TASKS),
    Command("resume", N_("Continue an unfinished report"), Capability.TAKE_TASKS),
    Command("pair", N_("Volunteer pairs: form and dissolve"), Capability.DISPATCH),
    Command("meetings", N_("Coordination meetings and their dates"), registered=True),
    Command("meeting", N_("Create a meeting: /meeting new"), Capability.MANAGE_MEETINGS),
    Command("broadcast", N_("Send a message or open tasks to many"), Capability.BROADCAST),
    Command("broadcasts", N_("Latest broadcasts and their reports"), Capability.BROADCAST),
    Command(
        "campaign",
        N_("Phone-check campaigns: /campaign new, or progress"),
        Capability.MANAGE_CAMPAIGNS,
    ),
    Command("call", N_("The next resident to phone in your campaign"), Capability.CALL),
    Command("available", N_("Take offers again"), Capability.SET_AVAILABILITY),
    Command("away", N_("Take no offers for now"), Capability.SET_AVAILABILITY),
    Command("areas", N_("Postal areas you cover: /areas 70 71100"), Capability.SET_AVAILABILITY),
)


def commands_for(person: Person | None) -> list[Command]:
    """Return the commands the person may use; strangers get those that need nothing."""
    return [
        c
        for c in COMMANDS
        if (c.needs is None and (not c.registered or person is not None))
        or (person is not None and c.needs is not None and person.can(c.needs))
    ]


def _bot_commands(commands: list[Command], tr: Translator) -> list[BotCommand]:
    return [BotCommand(c.name, tr.plain(c.description)) for c in commands]


async def publish_default_menus(bot: Bot, default_language: str) -> None:
    """Set the menu everyone sees before registering, once per language and a default.

    Best effort: a bot without menus still works, so a refusal is logged and start-up goes on.
    """
    everyone = commands_for(None)
    try:
        for language in SUPPORTED_LANGUAGES:
            await bot.set_my_commands(
                _bot_commands(everyone, translators()[language]), language_code=language
            )
        await bot.set_my_commands(_bot_commands(everyone, translators()[default_language]))
    except TelegramError as exc:
        log.warning("could not set the command menus: %s", type(exc).__name__)


async def publish_menu_of(bot: Bot, person: Person) -> None:
    """Give the person's chat a menu of their own commands in their language (best effort)."""
    scope = BotCommandScopeChat(person.telegram_user_id)
    try:
        if person.active:
            commands = _bot_commands(commands_for(person), translators()[person.language])
            await bot.set_my_commands(commands, scope=scope)
        else:
            await bot.delete_my_commands(scope=scope)
    except TelegramError as exc:
        log.warning("could not update the menu of person %s: %s", person.id, type(exc).__name__)
