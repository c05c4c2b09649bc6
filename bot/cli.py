"""The `apuri` command: run the bot, migrate the database, create invites, import residents, check
outcome forms.

Exit status: 0 done, 1 a fault while running, 2 a problem with the configuration or the arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import sys
from collections.abc import Sequence
from pathlib import Path

from telegram import Update
from telegram.error import InvalidToken, NetworkError

from bot.app import build_application, open_services
from bot.config import ConfigError, Settings, load_settings
from bot.domain.errors import DomainError
from bot.domain.forms import Form, FormError
from bot.domain.people import ROLES_NEEDING_ORGANISATION, Role
from bot.domain.resident_import import MAX_BYTES
from bot.form_files import load_catalog, load_form_file
from bot.i18n import translators
from bot.logs import configure_logging
from bot.services.invites import IssuedInvite
from bot.services.residents import ImportReport
from handlers.render import error_text
from handlers.residents_render import import_report_lines, plain_text, too_large_text
from storage.db import Database, MigrationError

__all__ = ["main"]

BOTFATHER_ADVICE = (
    "apuri: no Telegram bot token. In Telegram, send /newbot to @BotFather, then put the token it "
    "gives as TELEGRAM_BOT_TOKEN=... in the file .env (copy .env.example to .env)."
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"apuri: configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        return int(args.action(settings, args))
    except MigrationError as exc:
        print(f"apuri: database: {exc}", file=sys.stderr)
        return 1
    except FormError as exc:
        print(f"apuri: form: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        explanation = error_text(translators()["en"], exc, settings.zone)
        print(f"apuri: {html.unescape(explanation)}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="apuri", description="Apuri, the neighbourhood-help Telegram bot."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="migrate the database and start the bot (long polling)")
    run.set_defaults(action=_run)

    migrate = commands.add_parser("migrate", help="bring the database up to date")
    migrate.set_defaults(action=_migrate)

    invite = commands.add_parser("invite", help="print a one-time invite link and code")
    invite.add_argument("--role", required=True, choices=[r.value for r in Role])
    invite.add_argument("--name", help="the person's name, shown to coordinators")
    invite.add_argument("--organisation", help="the organisation (required for partner)")
    invite.set_defaults(action=_invite)

    residents = commands.add_parser(
        "import-residents", help="add or update residents from a CSV file (see the README)"
    )
    residents.add_argument("file", metavar="FILE.csv", type=Path)
    residents.set_defaults(action=_import_residents)

    forms = commands.add_parser("forms", help="outcome forms (see docs/forms.md)")
    form_commands = forms.add_subparsers(required=True, metavar="ACTION")
    check = form_commands.add_parser(
        "check",
        help="validate form files; without FILE, every form in use (built-in and APURI_FORMS_DIR)",
    )
    check.add_argument("files", metavar="FILE", type=Path, nargs="*")
    check.set_defaults(action=_check_forms)
    return parser


def _run(settings: Settings, _args: argparse.Namespace) -> int:
    if settings.telegram_bot_token is None:
        print(BOTFATHER_ADVICE, file=sys.stderr)
        return 2
    app = build_application(settings)  # reads the forms first: a broken one stops here
    asyncio.run(_apply_migrations(settings))  # each applied migration is logged
    try:
        app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    except InvalidToken:
        print(
            "apuri: Telegram refused the token; check TELEGRAM_BOT_TOKEN in .env.", file=sys.stderr
        )
        return 2
    except NetworkError as exc:
        print(f"apuri: cannot reach the Telegram Bot API: {exc}", file=sys.stderr)
        return 1
    return 0


def _check_forms(settings: Settings, args: argparse.Namespace) -> int:
    paths: list[Path] = args.files
    if not paths:
        catalog = load_catalog(settings.forms_dir)
        for form in catalog:
            print(_form_line(form))
        print("apuri: every task kind has a form; all forms are valid")
        return 0
    failed = 0
    for path in paths:
        try:
            form = load_form_file(path)
        except FormError as exc:
            print(f"apuri: {exc}", file=sys.stderr)
            failed += 1
        else:
            print(f"{path}: {_form_line(form)}")
    return 2 if failed else 0


def _form_line(form: Form) -> str:
    kinds = ", ".join(kind.value for kind in form.task_kinds)
    return (
        f"form '{form.id}' version {form.version}: {len(form.questions)} questions, "
        f"closes {kinds}: valid"
    )


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    applied = asyncio.run(_apply_migrations(settings))
    print(f"apuri: {len(applied)} migration(s) applied; database {settings.database} is up to date")
    return 0


async def _apply_migrations(settings: Settings) -> list[str]:
    db = await Database.open(settings.database)
    try:
        return await db.migrate()
    finally:
        await db.close()


def _invite(settings: Settings, args: argparse.Namespace) -> int:
    if Role(args.role) in ROLES_NEEDING_ORGANISATION and not args.organisation:
        print(f"apuri: a {args.role} invite needs --organisation NAME", file=sys.stderr)
        return 2
    issued = asyncio.run(_create_invite(settings, Role(args.role), args.name, args.organisation))
    who = f' "{args.name}"' if args.name else ""
    expires = issued.invite.expires_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
    print(f"Invite for {args.role}{who}, valid once until {expires} ({settings.timezone}).")
    if issued.link:
        print(f"Link: {issued.link}")
    else:
        print("The bot's username is not known yet: start the bot once for a link, or send:")
        print(f"/start {issued.code}")
    print(issued.code)
    return 0


async def _create_invite(
    settings: Settings, role: Role, name: str | None, organisation: str | None
) -> IssuedInvite:
    db, services = await open_services(settings)
    try:
        return await services.invites.create(None, role, name=name, organisation_name=organisation)
    finally:
        await db.close()


def _import_residents(settings: Settings, args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        if path.stat().st_size > MAX_BYTES:  # refused before reading it all into memory
            print(
                f"apuri: {path}: {plain_text(too_large_text(translators()['en']))}", file=sys.stderr
            )
            return 2
        data = path.read_bytes()
    except OSError as exc:
        print(f"apuri: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    report = asyncio.run(_import(settings, data))
    lines = [plain_text(line) for line in import_report_lines(translators()["en"], report)]
    if report.error is not None:
        print(f"apuri: {path}: {lines[0]}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


async def _import(settings: Settings, data: bytes) -> ImportReport:
    db, services = await open_services(settings)
    try:
        return await services.residents.import_csv(
            None, data, default_language=settings.default_language
        )
    finally:
        await db.close()


if __name__ == "__main__":
    sys.exit(main())
