"""End-to-end fixtures: the real Apuri application polling the fake Bot API on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import io
from dataclasses import dataclass, field

import pytest

from bot.app import ApuriApplication, build_application
from bot.cli import main as cli_main
from bot.config import Settings
from tests.clock import FakeClock
from tests.e2e.teams import team  # noqa: F401 - the shared cast of dispatch and outcome tests
from tests.fakes import DEFAULT_TOKEN, FakeBotAPI, FakeUser


@pytest.fixture
async def telegram():
    async with FakeBotAPI() as server:
        yield server


@pytest.fixture
def settings(tmp_path, telegram) -> Settings:
    return Settings(
        _env_file=None,
        TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
        TELEGRAM_API_BASE_URL=telegram.base_url,
        APURI_DATABASE=tmp_path / "apuri.sqlite3",
        APURI_DEFAULT_LANGUAGE="fi",
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class RunningBot:
    """The application `apuri run` builds, started the way PTB's run_polling starts it."""

    settings: Settings
    clock: FakeClock
    app: ApuriApplication | None = field(default=None, init=False)

    async def start(self) -> None:
        app = build_application(self.settings, clock=self.clock)
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=1, poll_interval=0)
        self.app = app

    async def stop(self) -> None:
        app, self.app = self.app, None
        if app is None:
            return
        assert app.updater is not None
        await app.updater.stop()
        await app.stop()
        assert app.post_stop is not None
        await app.post_stop(app)
        await app.shutdown()
        assert app.post_shutdown is not None
        await app.post_shutdown(app)

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def crash(self) -> None:
        """Stop as a killed process would: requests in flight are abandoned, nothing drains."""
        assert self.app is not None and self.app.bot_data.outbox is not None
        self.app.bot_data.outbox.kill()
        await self.stop()


@pytest.fixture
async def bot(settings, clock, telegram):
    running = RunningBot(settings, clock)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
def cli(settings, monkeypatch):
    """Run `apuri ...` in a thread (it runs its own event loop); return (status, stdout lines)."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", DEFAULT_TOKEN)
    monkeypatch.setenv("APURI_DATABASE", str(settings.database))
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", settings.telegram_api_base_url or "")

    async def run(*args: str) -> tuple[int, list[str]]:
        out = io.StringIO()

        def call() -> int:
            with contextlib.redirect_stdout(out):
                return cli_main(list(args))

        status = await asyncio.to_thread(call)
        return status, out.getvalue().splitlines()

    return run


@pytest.fixture
def register(telegram, cli):
    """Invite a person from the command line and have them redeem it in chat."""

    async def register(
        user_id: int, first_name: str, role: str, *, language: str = "fi", organisation=None
    ) -> FakeUser:
        args = ["invite", "--role", role, "--name", first_name]
        if organisation:
            args += ["--organisation", organisation]
        status, lines = await cli(*args)
        assert status == 0, lines
        user = telegram.user(user_id, first_name, language_code=language)
        welcome = await user.ask(f"/start {lines[-1]}")
        assert first_name in welcome.text
        return user

    return register
