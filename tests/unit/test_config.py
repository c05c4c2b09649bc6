"""Settings: defaults, environment, and one readable error per invalid variable."""

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_API_BASE_URL",
        "APURI_DATABASE",
        "APURI_TIMEZONE",
        "APURI_DEFAULT_LANGUAGE",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults():
    settings = load_settings()
    assert settings.telegram_bot_token is None
    assert settings.database == Path("data/apuri.sqlite3")
    assert settings.timezone == "Europe/Helsinki"
    assert settings.default_language == "fi"
    assert settings.invite_validity.days == 7


def test_environment_and_dotenv_are_read(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nAPURI_DEFAULT_LANGUAGE=sv\n")
    monkeypatch.setenv("APURI_TIMEZONE", "Europe/Stockholm")
    settings = load_settings()
    assert settings.telegram_bot_token.get_secret_value() == TOKEN
    assert settings.default_language == "sv"
    assert settings.timezone == "Europe/Stockholm"


def test_the_token_is_never_shown_in_the_settings_repr():
    settings = load_settings(TELEGRAM_BOT_TOKEN=TOKEN)
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("APURI_TIMEZONE", "Mars/Olympus"),
        ("APURI_DEFAULT_LANGUAGE", "de"),
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("TELEGRAM_API_BASE_URL", "ftp://example"),
        ("APURI_INVITE_VALID_DAYS", "0"),
    ],
)
def test_an_invalid_value_names_its_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert variable in str(raised.value)
    if variable == "TELEGRAM_BOT_TOKEN":
        assert value not in str(raised.value)


def test_blank_token_means_no_token(monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "  ")
    assert load_settings().telegram_bot_token is None
