"""Settings: a TOML file plus ``HOMEWARD_`` environment overrides (``__`` nests).

The file is ``--config PATH``, else ``$HOMEWARD_CONFIG``, else ``./homeward.toml``
if present. Every problem becomes one :class:`ConfigError` line naming the key;
secret values are never echoed back.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.domain.errors import InvalidInput
from bot.domain.incidents import RiskLevel
from bot.domain.visibility import visibility_table
from bot.services.context import AlertPolicy, MembershipPolicy, NamedArea

PUBLIC_BOT_API = "https://api.telegram.org/bot"
PUBLIC_FILE_API = "https://api.telegram.org/file/bot"
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{32,256}$")
TOKEN_RE = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")


class ConfigError(Exception):
    """A configuration problem, phrased for the operator in one line."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TelegramSettings(_Section):
    token: SecretStr | None = None
    base_url: str = PUBLIC_BOT_API
    base_file_url: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    concurrent_updates: int = Field(default=16, ge=1, le=256)
    bot_username: str | None = None
    poll_timeout_seconds: int = Field(default=30, ge=0, le=50)

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() == "":
            return None
        if value is not None and not TOKEN_RE.match(value.get_secret_value()):
            raise ValueError("does not look like a bot token from @BotFather (digits:letters)")
        return value

    @field_validator("base_url", "base_file_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    def file_url(self) -> str:
        if self.base_file_url:
            return self.base_file_url
        if self.base_url.endswith("/bot"):
            return self.base_url[: -len("/bot")] + "/file/bot"
        return PUBLIC_FILE_API


class DatabaseSettings(_Section):
    url: SecretStr = SecretStr("sqlite+aiosqlite:///homeward.db")
    pool_size: int = Field(default=10, ge=1, le=100)
    multi_instance: bool = False


class GeocodingSettings(_Section):
    enabled: bool = True
    domain: str = "nominatim.openstreetmap.org"
    scheme: Literal["http", "https"] = "https"
    user_agent: str = Field(default="homeward-bot/0.1 (configure a contact address)", min_length=8)
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    min_delay_seconds: float = Field(default=1.0, ge=0, le=60)


class AreaSettings(_Section):
    name: str = Field(min_length=2, max_length=60)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    radius_km: float = Field(gt=0, le=500)


class MembershipSettings(_Section):
    invite_ttl_hours: float = Field(default=24.0, gt=0, le=168)
    lockout_failures: int = Field(default=10, ge=1, le=1000)
    lockout_window_minutes: float = Field(default=60.0, gt=0, le=24 * 60)
    stranger_reply_interval_seconds: float = Field(default=60.0, ge=1, le=86400)
    radius_choices_km: list[float] = Field(
        default=[5.0, 10.0, 25.0, 50.0], min_length=1, max_length=8
    )
    max_radius_km: float = Field(default=200.0, gt=0, le=500)
    areas: list[AreaSettings] = Field(default_factory=list)

    def policy(self) -> MembershipPolicy:
        return MembershipPolicy(
            invite_ttl=timedelta(hours=self.invite_ttl_hours),
            lockout_failures=self.lockout_failures,
            lockout_window=timedelta(minutes=self.lockout_window_minutes),
            stranger_reply_interval_seconds=self.stranger_reply_interval_seconds,
            radius_choices_km=tuple(self.radius_choices_km),
            max_radius_km=self.max_radius_km,
            named_areas=tuple(
                NamedArea(a.name, a.latitude, a.longitude, a.radius_km) for a in self.areas
            ),
        )


class DeliverySection(_Section):
    concurrency: int = Field(default=4, ge=1, le=64)
    rate_per_second: float = Field(default=29.5, gt=0, le=30)
    lease_seconds: float = Field(default=60.0, ge=5, le=3600)
    per_chat_per_second: float = Field(default=1.0, gt=0, le=100)
    per_chat_burst: int = Field(default=3, ge=1, le=100)
    group_per_minute: int = Field(default=20, ge=1, le=1000)


class AlertSettings(_Section):
    # Search radius around the last-seen point, by risk level (km).
    radius_km_low: float = Field(default=10.0, gt=0, le=500)
    radius_km_medium: float = Field(default=25.0, gt=0, le=500)
    radius_km_high: float = Field(default=50.0, gt=0, le=500)
    # Alert fields each role receives (see config.example.toml); unset roles keep the
    # defaults. Risk notes, medical needs and associates can never be listed here.
    visibility: dict[str, list[str]] = Field(default_factory=dict)
    # Follow-up timers. Police not told (no report number recorded) this many minutes
    # after the alert was raised, by risk level; then a reminder every police_repeat_minutes.
    police_deadline_minutes_low: float = Field(default=240.0, ge=0, le=7 * 24 * 60)
    police_deadline_minutes_medium: float = Field(default=60.0, ge=0, le=7 * 24 * 60)
    police_deadline_minutes_high: float = Field(default=0.0, ge=0, le=7 * 24 * 60)
    police_repeat_minutes: float = Field(default=30.0, ge=5, le=24 * 60)
    # Status checks to the coordinator while an alert is active, by risk level (hours).
    status_check_hours_low: float = Field(default=6.0, ge=0.25, le=72)
    status_check_hours_medium: float = Field(default=6.0, ge=0.25, le=72)
    status_check_hours_high: float = Field(default=2.0, ge=0.25, le=72)
    # The serious-occurrence report: reminders and the deadline, hours after raising.
    occurrence_reminder_hours: list[float] = Field(default=[12.0, 23.0], max_length=6)
    occurrence_deadline_hours: float = Field(default=24.0, gt=0, le=14 * 24)
    # The return interview after the youth is found: reminders and the deadline (hours).
    return_interview_reminder_hours: list[float] = Field(default=[24.0, 48.0], max_length=6)
    return_interview_due_hours: float = Field(default=72.0, gt=0, le=14 * 24)

    @model_validator(mode="after")
    def _reminders_before_deadlines(self) -> AlertSettings:
        for name, reminders, deadline in (
            (
                "occurrence_reminder_hours",
                self.occurrence_reminder_hours,
                self.occurrence_deadline_hours,
            ),
            (
                "return_interview_reminder_hours",
                self.return_interview_reminder_hours,
                self.return_interview_due_hours,
            ),
        ):
            if any(not 0 < h < deadline for h in reminders):
                raise ValueError(f"{name}: each reminder must come after 0 and before the deadline")
            if len(set(reminders)) != len(reminders):
                raise ValueError(f"{name}: the same reminder twice")
        return self

    # A drill (/drill) nobody ends is closed automatically after this many minutes.
    drill_duration_minutes: float = Field(default=120.0, ge=5, le=24 * 60)

    @field_validator("visibility")
    @classmethod
    def _fields(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        try:
            visibility_table(value)
        except InvalidInput as exc:
            raise ValueError(exc.detail) from None
        return value

    def policy(self) -> AlertPolicy:
        return AlertPolicy(
            radius_km={
                RiskLevel.LOW: self.radius_km_low,
                RiskLevel.MEDIUM: self.radius_km_medium,
                RiskLevel.HIGH: self.radius_km_high,
            },
            visibility=visibility_table(self.visibility),
            police_deadline={
                RiskLevel.LOW: timedelta(minutes=self.police_deadline_minutes_low),
                RiskLevel.MEDIUM: timedelta(minutes=self.police_deadline_minutes_medium),
                RiskLevel.HIGH: timedelta(minutes=self.police_deadline_minutes_high),
            },
            police_repeat=timedelta(minutes=self.police_repeat_minutes),
            status_check_every={
                RiskLevel.LOW: timedelta(hours=self.status_check_hours_low),
                RiskLevel.MEDIUM: timedelta(hours=self.status_check_hours_medium),
                RiskLevel.HIGH: timedelta(hours=self.status_check_hours_high),
            },
            occurrence_reminders=tuple(
                timedelta(hours=h) for h in sorted(self.occurrence_reminder_hours)
            ),
            occurrence_deadline=timedelta(hours=self.occurrence_deadline_hours),
            return_interview_reminders=tuple(
                timedelta(hours=h) for h in sorted(self.return_interview_reminder_hours)
            ),
            return_interview_due=timedelta(hours=self.return_interview_due_hours),
            drill_duration=timedelta(minutes=self.drill_duration_minutes),
        )


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_lines: bool = Field(default=False, alias="json")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SandboxSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8081, ge=0, le=65535)

    @field_validator("host")
    @classmethod
    def _loopback(cls, value: str) -> str:
        if value not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the sandbox only listens on loopback (127.0.0.1)")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HOMEWARD_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    timezone: str = "America/Toronto"
    telegram: TelegramSettings = TelegramSettings()
    database: DatabaseSettings = DatabaseSettings()
    geocoding: GeocodingSettings = GeocodingSettings()
    membership: MembershipSettings = MembershipSettings()
    delivery: DeliverySection = DeliverySection()
    alerts: AlertSettings = AlertSettings()
    logging: LoggingSettings = LoggingSettings()
    sandbox: SandboxSettings = SandboxSettings()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone (use an IANA name like America/Toronto)") from exc
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = settings_cls.model_config.get("toml_file")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    def secrets(self) -> list[str]:
        """Values the log filter must scrub."""
        values = [self.database.url.get_secret_value()]
        password = re.search(r"://[^:/@]+:([^@]+)@", values[0])
        values = [password.group(1)] if password else []
        for secret in (self.telegram.token, self.telegram.webhook_secret):
            if secret is not None:
                values.append(secret.get_secret_value())
        return [v for v in values if v]

    def check_for_run(self) -> None:
        """Cross-field checks that only matter when the bot runs."""
        tg = self.telegram
        if tg.mode == "webhook":
            secret = tg.webhook_secret.get_secret_value() if tg.webhook_secret else ""
            if not SECRET_RE.match(secret):
                raise ConfigError(
                    "telegram.webhook_secret: webhook mode needs a secret of 32-256 characters "
                    "from A-Z a-z 0-9 _ - (Telegram does not sign webhooks; it is the only check)"
                )
            url = urlsplit(tg.webhook_url or "")
            loopback = url.hostname in ("127.0.0.1", "localhost", "::1")
            if url.scheme != "https" and not (url.scheme == "http" and loopback):
                raise ConfigError("telegram.webhook_url: webhook mode needs an https:// URL")
        if self.database.multi_instance and self.database.url.get_secret_value().startswith(
            "sqlite"
        ):
            raise ConfigError(
                "database.multi_instance: SQLite serves a single instance; use PostgreSQL"
            )


def resolve_config_path(explicit: str | os.PathLike[str] | None) -> Path | None:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        return path
    env = os.environ.get("HOMEWARD_CONFIG")
    if env:
        path = Path(env)
        if not path.is_file():
            raise ConfigError(f"HOMEWARD_CONFIG points to a missing file: {path}")
        return path
    default = Path("homeward.toml")
    return default if default.is_file() else None


def load_settings(path: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Read and validate settings. Raises :class:`ConfigError` (one line) on any problem."""
    config_path = resolve_config_path(path)
    if config_path is not None:
        try:
            tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: not valid TOML ({exc})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_path}: cannot be read ({exc.__class__.__name__})") from None

    class _FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=config_path)

    try:
        return _FileSettings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_input=False)[0]
    key = ".".join(str(part) for part in first["loc"]) or "settings"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown key (check the spelling against config.example.toml)"
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{key}: {message}{suffix}"
