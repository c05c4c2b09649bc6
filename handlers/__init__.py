"""Telegram adapters: extract what the person asked, call one service, render the answer."""

from __future__ import annotations

import warnings
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from handlers import (
    broadcasts,
    campaigns,
    forms,
    meetings,
    pairs,
    people,
    residents,
    start,
    tasks,
)
from handlers.callback_data import (
    ChooseInviteRole,
    ChooseLanguage,
    PeoplePage,
    SetActive,
    SetRole,
    ShowPerson,
)
from handlers.errors import on_error
from handlers.gate import identify

__all__ = ["register"]

# Our conversations mix typed answers and buttons, tracked per user and chat rather than per
# message, which is what we want; PTB warns about that choice for every such conversation.
warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)

_MEMBERSHIP = -2
_GATE = -1
_COMMANDS = 0


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register every handler, in the order in which they must see updates."""
    # The bot's own membership in group chats (added, removed) is noted before the gate.
    app.add_handlers(meetings.membership_handlers(), group=_MEMBERSHIP)
    # The gate runs next and alone in its group: it identifies the person and stops strangers.
    app.add_handler(TypeHandler(Update, identify), group=_GATE)

    app.add_handlers(
        [
            # Guided conversations first: while one waits for typed text, it gets the text.
            # The campaign form takes a CSV file at its "who" step, before the residents' import.
            *campaigns.handlers(),
            *residents.handlers(),
            *pairs.handlers(),
            *tasks.handlers(),
            *forms.handlers(),
            *meetings.handlers(),
            *broadcasts.handlers(),
            CommandHandler("start", start.start),
            CommandHandler("help", start.help_command),
            CommandHandler("whoami", start.whoami),
            CommandHandler("language", start.language),
            CommandHandler("invite", people.invite),
            CommandHandler("people", people.list_people),
            CallbackQueryHandler(start.choose_language, pattern=ChooseLanguage.matches()),
            CallbackQueryHandler(people.invite_role_chosen, pattern=ChooseInviteRole.matches()),
            CallbackQueryHandler(people.show_people_page, pattern=PeoplePage.matches()),
            CallbackQueryHandler(people.show_person, pattern=ShowPerson.matches()),
            CallbackQueryHandler(people.set_active, pattern=SetActive.matches()),
            CallbackQueryHandler(people.set_role, pattern=SetRole.matches()),
            # Typed text nobody's conversation waited for: an answer to the person's open form.
            forms.typed_answer(),
            # Last: anything not understood gets a pointer to /help instead of silence.
            MessageHandler(filters.ALL, start.unknown),
            CallbackQueryHandler(start.unknown),
        ],
        group=_COMMANDS,
    )
    app.add_error_handler(on_error)
