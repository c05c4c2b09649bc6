"""All configuration of Apuri, read once from the environment and `.env`.

Every setting lives in `Settings`; nothing else in the code reads the environment. Tests build
`Settings(...)` explicitly, so no test depends on the machine it runs on.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.meetings import MeetingError, Offset
from bot.domain.people import SUPPORTED_LANGUAGES
from bot.domain.schedule import parse_clock, parse_offsets

__all__ = ["ConfigError", "Settings", "load_settings"]

_TOKEN_SHAPE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the variable."""


class Settings(BaseSettings):
    """Apuri's settings; environment variable names are given by each field's alias."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    telegram_bot_token: SecretStr | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str | None = Field(default=None, alias="TELEGRAM_API_BASE_URL")
    telegram_api_file_url: str | None = Field(default=None, alias="TELEGRAM_API_FILE_URL")
    database: Path = Field(default=Path("data/apuri.sqlite3"), alias="APURI_DATABASE")
    timezone: str = Field(default="Europe/Helsinki", alias="APURI_TIMEZONE")
    default_language: str = Field(default="fi", alias="APURI_DEFAULT_LANGUAGE")
    invite_valid_days: int = Field(default=7, ge=1, le=90, alias="APURI_INVITE_VALID_DAYS")
    log_level: str = Field(default="INFO", alias="APURI_LOG_LEVEL")
    offer_timeout_hours: float = Field(default=4, gt=0, le=168, alias="APURI_OFFER_TIMEOUT_HOURS")
    task_reminder_minutes: int = Field(
        default=60, ge=0, le=24 * 60, alias="APURI_TASK_REMINDER_MINUTES"
    )
    sweep_seconds: int = Field(default=60, ge=5, le=3600, alias="APURI_SWEEP_SECONDS")
    concurrent_updates: int = Field(default=8, ge=1, le=256, alias="APURI_CONCURRENT_UPDATES")
    forms_dir: Path | None = Field(default=None, alias="APURI_FORMS_DIR")
    phone_check_attempts: int = Field(default=2, ge=1, le=10, alias="APURI_PHONE_CHECK_ATTEMPTS")
    call_claim_minutes: int = Field(default=30, ge=5, le=480, alias="APURI_CALL_CLAIM_MINUTES")
    draft_reminder_hours: float = Field(default=2, gt=0, le=168, alias="APURI_DRAFT_REMINDER_HOURS")
    draft_expiry_hours: float = Field(default=48, gt=0, le=720, alias="APURI_DRAFT_EXPIRY_HOURS")
    parish_organisation: str = Field(default="", max_length=200, alias="APURI_PARISH_ORGANISATION")
    meeting_grace_minutes: int = Field(
        default=10, ge=0, le=24 * 60, alias="APURI_MEETING_GRACE_MINUTES"
    )
    meeting_reminders: str = Field(default="1d16:00, 15m", alias="APURI_MEETING_REMINDERS")
    digest_time: str = Field(default="07:30", alias="APURI_DIGEST_TIME")
    group_messages_per_minute: int = Field(
        default=20, ge=1, le=60, alias="APURI_GROUP_MESSAGES_PER_MINUTE"
    )
    messages_per_second: int = Field(default=30, ge=2, le=1000, alias="APURI_MESSAGES_PER_SECOND")
    chat_messages_per_second: float = Field(
        default=1.0, gt=0, le=30, alias="APURI_CHAT_MESSAGES_PER_SECOND"
    )
    broadcast_max_file_mb: int = Field(
        default=20, ge=1, le=2000, alias="APURI_BROADCAST_MAX_FILE_MB"
    )
    broadcast_attempts: int = Field(default=5, ge=1, le=20, alias="APURI_BROADCAST_ATTEMPTS")

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_has_telegram_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not _TOKEN_SHAPE.match(value.get_secret_value().strip()):
            raise ValueError("does not look like a token from @BotFather (digits:letters)")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("telegram_api_base_url", "telegram_api_file_url")
    @classmethod
    def _url_is_http(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.match(r"^https?://[^/\s]+", value.strip()):
            raise ValueError("must be an http:// or https:// URL")
        return value.strip()

    @field_validator("forms_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("meeting_reminders")
    @classmethod
    def _readable_offsets(cls, value: str) -> str:
        try:
            parse_offsets(value)
        except MeetingError as exc:
            raise ValueError(
                "a comma-separated list like '1d16:00, 15m' (days before at a time, or minutes)"
            ) from exc
        return value

    @field_validator("digest_time")
    @classmethod
    def _clock_time_or_off(cls, value: str) -> str:
        if value.strip().lower() in {"", "off"}:
            return ""
        try:
            parse_clock(value)
        except MeetingError as exc:
            raise ValueError("a time like 07:30, or 'off'") from exc
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Helsinki)") from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in SUPPORTED_LANGUAGES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LANGUAGES)}")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value

    @property
    def zone(self) -> ZoneInfo:
        """Return the configured time zone."""
        return ZoneInfo(self.timezone)

    @property
    def offer_timeout(self) -> timedelta:
        """Return how long an offer waits for an accept before coordinators are alerted."""
        return timedelta(hours=self.offer_timeout_hours)

    @property
    def reminder_lead(self) -> timedelta:
        """Return how long before a task's window its holders are reminded."""
        return timedelta(minutes=self.task_reminder_minutes)

    @property
    def call_claim(self) -> timedelta:
        """Return how long a campaign call stays a caller's without a step in its report."""
        return timedelta(minutes=self.call_claim_minutes)

    @property
    def draft_reminder(self) -> timedelta:
        """Return how long a form may sit unfinished before its owner is reminded."""
        return timedelta(hours=self.draft_reminder_hours)

    @property
    def draft_expiry(self) -> timedelta:
        """Return how long an unfinished form is kept."""
        return timedelta(hours=self.draft_expiry_hours)

    @property
    def meeting_grace(self) -> timedelta:
        """Return how late a missed meeting reminder may still be sent."""
        return timedelta(minutes=self.meeting_grace_minutes)

    @property
    def default_offsets(self) -> tuple[Offset, ...]:
        """Return when a new meeting's reminders go out unless its organiser chooses otherwise."""
        return parse_offsets(self.meeting_reminders)

    @property
    def digest_at(self) -> time | None:
        """Return the local time of the coordinators' morning digest, or None when it is off."""
        return parse_clock(self.digest_time) if self.digest_time else None

    @property
    def invite_validity(self) -> timedelta:
        """Return how long a new invite stays valid."""
        return timedelta(days=self.invite_valid_days)


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning validation errors into one readable `ConfigError`."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = error["loc"][0] if error["loc"] else "?"
            name = _alias_of(str(field))
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}: {message}")
        raise ConfigError("; ".join(problems)) from None


def _alias_of(field: str) -> str:
    info = Settings.model_fields.get(field)
    if info is not None and info.alias:
        return info.alias
    return field
