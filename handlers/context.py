"""The typed context every handler receives: services, the person and their translator."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.domain.errors import NotAllowed
from bot.domain.meetings import DEFAULT_OFFSETS, Offset
from bot.domain.people import Capability, Person, normalise_language
from bot.i18n import Translator, translators
from bot.services.container import Services

if TYPE_CHECKING:
    from handlers.outbox import Outbox

__all__ = ["CONTEXT_TYPES", "ApuriContext", "BotData", "Handler", "requires"]


class BotData:
    """Application-wide state, filled in by the composition root's `post_init`."""

    __slots__ = (
        "_services",
        "default_language",
        "default_offsets",
        "delivery_lock",
        "outbox",
        "schedule_lock",
        "timezone",
    )

    def __init__(self) -> None:
        self._services: Services | None = None
        self.default_language = "fi"
        self.timezone = ZoneInfo("Europe/Helsinki")
        self.default_offsets: tuple[Offset, ...] = DEFAULT_OFFSETS
        self.schedule_lock = asyncio.Lock()  # one rebuild of the meeting jobs at a time
        self.delivery_lock = asyncio.Lock()  # one run of the due meeting reminders at a time
        self.outbox: Outbox | None = None  # the broadcast worker, from post_init on

    @property
    def services(self) -> Services:
        """Return the services; they exist from `post_init` on."""
        if self._services is None:
            raise RuntimeError("services are not ready: post_init has not run")
        return self._services

    @services.setter
    def services(self, services: Services) -> None:
        self._services = services


class ApuriContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """A `CallbackContext` that knows who is writing and in which language to answer."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id, user_id)
        self.person: Person | None = None
        self.deactivated = False  # a known person whose access has ended
        self.tr: Translator = translators()[self.bot_data.default_language]

    @property
    def services(self) -> Services:
        """Return the application's services."""
        return self.bot_data.services

    @property
    def actor(self) -> Person:
        """Return the registered, active person behind the update."""
        if self.person is None:
            raise NotAllowed("not registered")
        return self.person

    def translator_for(self, person: Person) -> Translator:
        """Return the translator in another person's language, for messages to them."""
        return translators()[person.language]

    def speak_to(self, person: Person | None, telegram_language: str | None) -> Translator:
        """Use the person's chosen language, else their Telegram app's, else the default."""
        language = (
            person.language
            if person is not None
            else normalise_language(telegram_language, self.bot_data.default_language)
        )
        self.tr = translators()[language]
        return self.tr


CONTEXT_TYPES = ContextTypes(context=ApuriContext, bot_data=BotData)


Handler = Callable[[Update, "ApuriContext"], Awaitable[Any]]
_H = TypeVar("_H", bound=Handler)


def requires(capability: Capability) -> Callable[[_H], _H]:
    """Refuse the handler to anyone whose roles lack `capability` (services check again).

    The handler's result passes through, so a conversation's next state is kept.
    """

    def decorate(handler: _H) -> _H:
        @functools.wraps(handler)
        async def guarded(update: Update, context: ApuriContext) -> Any:
            if not context.actor.can(capability):
                raise NotAllowed(capability.value)
            return await handler(update, context)

        return guarded  # type: ignore[return-value]

    return decorate
