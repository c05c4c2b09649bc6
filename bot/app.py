"""The composition root: build the one Application that `apuri run` starts and tests drive.

Nothing opens at import time. `post_init` opens and migrates the database, wires the services,
tells Telegram the command menus and starts the outbox worker; `post_stop` lets the worker finish
the messages in flight; `post_shutdown` closes the database.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Application, Defaults

import handlers
from bot.config import ConfigError, Settings
from bot.form_files import load_catalog
from bot.services.container import Services, build_services
from bot.services.outcomes import FormCatalog
from bot.services.ports import Clock
from handlers.commands import publish_default_menus
from handlers.context import CONTEXT_TYPES, BotData
from handlers.jobs import schedule
from handlers.meeting_jobs import reschedule
from handlers.outbox import Outbox
from handlers.ratelimit import FloodLimiter
from storage.db import Database
from storage.store import SqliteStore

__all__ = ["ApuriApplication", "build_application", "open_services", "system_clock"]

log = logging.getLogger(__name__)

ApuriApplication = Application[Any, Any, Any, Any, BotData, Any]


def system_clock() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


async def open_services(
    settings: Settings, clock: Clock = system_clock, forms: FormCatalog | None = None
) -> tuple[Database, Services]:
    """Open and migrate the database and wire the services on it."""
    if forms is None:
        forms = load_catalog(settings.forms_dir)
    db = await Database.open(settings.database)
    try:
        await db.migrate()
    except BaseException:
        await db.close()
        raise
    services = build_services(
        SqliteStore(db),
        clock,
        invite_validity=settings.invite_validity,
        default_language=settings.default_language,
        offer_timeout=settings.offer_timeout,
        reminder_lead=settings.reminder_lead,
        forms=forms,
        zone=settings.zone,
        phone_attempts=settings.phone_check_attempts,
        draft_reminder=settings.draft_reminder,
        draft_expiry=settings.draft_expiry,
        parish=settings.parish_organisation,
        meeting_grace=settings.meeting_grace,
        digest_at=settings.digest_at,
        broadcast_max_file_bytes=settings.broadcast_max_file_mb * 1024 * 1024,
        broadcast_attempts=settings.broadcast_attempts,
        call_claim=settings.call_claim,
    )
    return db, services


def build_application(settings: Settings, *, clock: Clock = system_clock) -> ApuriApplication:
    """Build the bot: handlers registered, lifecycle hooks set, nothing opened yet."""
    if settings.telegram_bot_token is None:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set")
    forms = load_catalog(settings.forms_dir)  # a broken form stops the start, naming the problem
    database: list[Database] = []
    limiter = FloodLimiter(
        per_second=settings.messages_per_second,
        chat_per_second=settings.chat_messages_per_second,
        group_per_minute=settings.group_messages_per_minute,
    )

    async def post_init(app: ApuriApplication) -> None:
        db, services = await open_services(settings, clock, forms)
        database.append(db)
        app.bot_data.services = services
        app.bot_data.default_language = settings.default_language
        app.bot_data.timezone = settings.zone
        app.bot_data.default_offsets = settings.default_offsets
        await services.invites.remember_bot_username(app.bot.username)
        await publish_default_menus(app.bot, settings.default_language)
        schedule(app, settings.sweep_seconds)
        await reschedule(app)
        app.bot_data.outbox = Outbox(app, limiter)
        await app.bot_data.outbox.start()
        log.info("Apuri is up as @%s", app.bot.username)

    async def post_stop(app: ApuriApplication) -> None:
        if app.bot_data.outbox is not None:
            await app.bot_data.outbox.stop()

    async def post_shutdown(app: ApuriApplication) -> None:
        await post_stop(app)  # in case the stop hook was skipped; stopping twice is harmless
        while database:
            await database.pop().close()

    builder = (
        Application.builder()
        .token(settings.telegram_bot_token.get_secret_value())
        .context_types(CONTEXT_TYPES)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        # Updates from different people are handled side by side; the database's write lock and
        # the services' state checks keep them consistent (two Accepts at once: one wins).
        .concurrent_updates(settings.concurrent_updates)
        # Telegram's flood limits: about 30 messages a second in all, 1 a second into one private
        # chat (broadcasts), 20 a minute into one group; a 429 pauses every send.
        .rate_limiter(limiter)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    if settings.telegram_api_base_url:
        builder = builder.base_url(settings.telegram_api_base_url)
        builder = builder.base_file_url(
            settings.telegram_api_file_url or _file_url_for(settings.telegram_api_base_url)
        )
    app: ApuriApplication = builder.build()
    handlers.register(app)
    return app


def _file_url_for(base_url: str) -> str:
    """Return the file URL of a Bot API server from its method URL (…/bot → …/file/bot)."""
    root, _, last = base_url.rstrip("/").rpartition("/")
    return f"{root}/file/{last}" if last == "bot" else base_url.rstrip("/") + "/file/bot"
