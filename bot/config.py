"""Settings from the environment and `.env`: one object, validated once at start."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEED_FILE = PROJECT_ROOT / "data" / "directory.yaml"

# Drivers the bot can use, and the async driver a plain scheme is upgraded to.
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_SUPPORTED = set(_ASYNC_DRIVERS.values())


class ConfigError(Exception):
    """A setting is invalid; the message is one sentence naming it."""


def normalise_database_url(raw: str) -> str:
    """Return an async SQLAlchemy URL for `raw`, or raise ValueError with the reason."""
    try:
        url: URL = make_url(raw)
    except ArgumentError:
        raise ValueError(f"{raw!r} is not a database URL (e.g. sqlite+aiosqlite:///var/bot.db)") from None
    driver = _ASYNC_DRIVERS.get(url.drivername, url.drivername)
    if driver not in _SUPPORTED:
        raise ValueError(f"driver {url.drivername!r} is not supported; use sqlite+aiosqlite or postgresql+asyncpg")
    module = driver.split("+")[1]
    if importlib.util.find_spec(module) is None:
        raise ValueError(f"the {module} driver is not installed: pip install -e '.[postgres]'")
    return url.set(drivername=driver).render_as_string(hide_password=False)


class Settings(BaseSettings):
    """Every setting of the bot; `.env.example` documents each with its default."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True)

    discord_token: SecretStr | None = None
    data_dir: Path = Path("var")
    database_url: str = ""
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None
    feeds_allow_private: bool = False
    dev_guild_id: int | None = Field(default=None, gt=0)
    home_guild_id: int | None = Field(default=None, gt=0)
    form_timeout: float = Field(default=900.0, gt=0, le=86400)
    log_level: str = "INFO"
    seed_file: Path = DEFAULT_SEED_FILE
    sandbox_port: int = Field(default=0, ge=0, le=65535)
    delivery_poll_seconds: float = Field(default=10.0, gt=0, le=3600)
    delivery_claim_seconds: float = Field(default=60.0, gt=0, le=240)
    web_port: int | None = Field(default=None, ge=0, le=65535)
    web_host: str = "127.0.0.1"
    web_public_url: str | None = None
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("discord_api_url", "discord_gateway_url", "web_public_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://", "ws://", "wss://")):
            raise ValueError("must start with http(s):// or ws(s)://")
        return value.rstrip("/")

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _split_shard_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",")]
            if not all(part.isdigit() for part in parts):
                raise ValueError(f"{value!r} is not a comma-separated list of shard numbers (e.g. 0,1)")
            return tuple(int(part) for part in parts)
        return value

    @field_validator("shard_ids")
    @classmethod
    def _shard_ids_fit(cls, value: tuple[int, ...] | None, info: ValidationInfo) -> tuple[int, ...] | None:
        if value is None:
            return None
        count = info.data.get("shard_count")
        if count is None:
            raise ValueError("needs SHARD_COUNT (--shard-count), the total number of shards")
        if len(set(value)) != len(value):
            raise ValueError(f"lists a shard twice ({', '.join(map(str, value))})")
        outside = [shard for shard in value if not 0 <= shard < count]
        if outside:
            raise ValueError(f"shard {outside[0]} is not below the shard count {count} (shards are 0 to {count - 1})")
        return value

    @field_validator("seed_file")
    @classmethod
    def _seed_exists(cls, value: Path) -> Path:
        if not value.is_file():
            raise ValueError(f"{value} is not a file (the directory seeds an empty database from it)")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return normalise_database_url(value) if value else ""

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data folder."""
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'bot.db'}"

    @property
    def sharded(self) -> bool:
        """Whether the bot connects as a sharded client (SHARD_COUNT set)."""
        return self.shard_count is not None

    @property
    def shards(self) -> tuple[int, ...]:
        """The shards this process serves: SHARD_IDS, or every shard of SHARD_COUNT (just 0 when unsharded)."""
        return self.shard_ids or tuple(range(self.shard_count or 1))

    @property
    def some_shards_elsewhere(self) -> bool:
        """Whether other processes must serve the shards this one does not."""
        return len(self.shards) < (self.shard_count or 1)

    @property
    def token(self) -> str | None:
        """The Discord token, or None for the offline sandbox."""
        return self.discord_token.get_secret_value() if self.discord_token else None


def load_settings(**overrides: object) -> Settings:
    """Load settings, turning validation failures into one ConfigError sentence."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"Invalid setting {name}: {reason}") from None
