"""Heard's settings: one pydantic-settings model read from ``HEARD_*`` environment variables or ``.env``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "HEARD_"
LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR")
SECRET_FIELDS: frozenset[str] = frozenset({"discord_token"})
DAY_RANGES: dict[str, tuple[int, int]] = {"retention_days": (1, 3650), "guild_data_grace_days": (0, 365)}


class Settings(BaseSettings):
    """Everything Heard reads from its environment, validated with readable messages."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    discord_token: SecretStr | None = None
    discord_api_base: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg/"
    database_path: Path = Path("heard.sqlite3")
    log_level: str = "INFO"
    dev_guild_id: int | None = None
    application_id: int | None = None
    # Moderator alerts (moderation tooling): retry backoff of undelivered alerts, and the claim lease.
    alert_retry_base_seconds: float = Field(default=2.0, gt=0, le=3600)
    alert_retry_max_seconds: float = Field(default=300.0, gt=0, le=86400)
    alert_lease_seconds: float = Field(default=120.0, ge=5, le=3600)
    # Privacy (trust): days before alert excerpts and flag details are purged, and days a removed
    # guild's data is kept in case Heard is added back.
    retention_days: int = 30
    guild_data_grace_days: int = 7

    @field_validator("discord_token", mode="before")
    @classmethod
    def _check_token(cls, value: Any) -> Any:
        """Treat an empty token as unset and refuse tokens with spaces, without echoing them."""
        if value is None:
            return None
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(text, str):
            raise ValueError("must be text")
        text = text.strip()
        if not text:
            return None
        if text.lower().startswith("bot "):
            text = text[4:].strip()
        if any(character.isspace() for character in text):
            raise ValueError("must be a single word with no spaces or line breaks (value hidden)")
        return SecretStr(text)

    @field_validator("discord_api_base", mode="before")
    @classmethod
    def _check_api_base(cls, value: Any) -> str:
        """Require an http(s) URL and drop a trailing slash."""
        return _checked_url(value, schemes=("http", "https")).rstrip("/")

    @field_validator("discord_gateway_url", mode="before")
    @classmethod
    def _check_gateway_url(cls, value: Any) -> str:
        """Require a ws(s) URL."""
        return _checked_url(value, schemes=("ws", "wss"))

    @field_validator("database_path", mode="before")
    @classmethod
    def _check_database_path(cls, value: Any) -> Path:
        """Require a non-empty path whose folder exists or can be created."""
        if isinstance(value, Path):
            path = value
        elif isinstance(value, str) and value.strip():
            path = Path(value.strip()).expanduser()
        else:
            raise ValueError(f"must be a file path such as heard.sqlite3 (got {value!r})")
        if path.exists() and path.is_dir():
            raise ValueError(f"must be a file, but {str(path)!r} is a folder")
        return path

    @field_validator("log_level", mode="before")
    @classmethod
    def _check_log_level(cls, value: Any) -> str:
        """Accept a log level name in any case."""
        level = str(value).strip().upper() if value is not None else ""
        if level == "WARN":
            level = "WARNING"
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)} (got {value!r})")
        return level

    @field_validator("dev_guild_id", "application_id", mode="before")
    @classmethod
    def _check_snowflake(cls, value: Any) -> int | None:
        """Accept an empty value as unset, otherwise require a positive Discord id."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool):
            raise ValueError(f"must be a Discord id, a positive whole number (got {value!r})")
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError(f"must be a Discord id, a positive whole number (got {value!r})") from None
        if number <= 0 or number >= 2**64:
            raise ValueError(f"must be a Discord id, a positive whole number (got {value!r})")
        return number

    @field_validator("retention_days", "guild_data_grace_days", mode="before")
    @classmethod
    def _check_days(cls, value: Any, info: ValidationInfo) -> int:
        """Require a whole number of days within the range allowed for that setting."""
        low, high = DAY_RANGES[info.field_name or ""]
        text = str(value).strip() if value is not None and not isinstance(value, bool) else ""
        try:
            days = int(text)
        except ValueError:
            days = None
        if days is None or not low <= days <= high:
            raise ValueError(f"must be a whole number of days from {low} to {high} (got {value!r})")
        return days

    def token_value(self) -> str | None:
        """Return the bot token as plain text for logging in (never log it)."""
        return self.discord_token.get_secret_value() if self.discord_token is not None else None


def _checked_url(value: Any, *, schemes: tuple[str, ...]) -> str:
    """Return ``value`` if it is a URL with one of ``schemes`` and a host, else raise a readable error."""
    text = str(value).strip() if value is not None else ""
    parts = urlsplit(text)
    if parts.scheme not in schemes or not parts.netloc:
        examples = " or ".join(f"{scheme}://…" for scheme in schemes)
        raise ValueError(f"must be a URL starting with {examples} (got {text!r})")
    return text


def describe_validation_error(error: ValidationError) -> str:
    """Return one readable line naming the first bad setting and what is wrong, never echoing secrets."""
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "?"
    message = str(first["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if field in SECRET_FIELDS and "(value hidden)" not in message:
        message = "is not valid (value hidden)"
    elif "(got " not in message and field not in SECRET_FIELDS:
        message = f"{message[:1].lower()}{message[1:]} (got {first.get('input')!r})"
    extra = "" if error.error_count() == 1 else f" (and {error.error_count() - 1} more)"
    return f"heard: invalid setting {ENV_PREFIX}{field.upper()}: {message}{extra}"


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; on a bad value print one readable line to stderr and exit with code 2."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        _exit_with(describe_validation_error(error))


def _exit_with(line: str) -> NoReturn:
    """Print ``line`` to stderr and exit with the usage-error code."""
    print(line, file=sys.stderr)
    raise SystemExit(2)
