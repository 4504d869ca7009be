"""Configuration: every default in one place, a TOML file over it, the environment over both.

Secrets (passwords) come only from the environment (or a `.env` file): a password
in the TOML file is refused, so config files can be shared and committed safely.
Every scalar key can be overridden with `RESPONDER_<SECTION>_<KEY>`; a wrong value
fails start-up with one line naming the key.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shlex
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

from responder.config.defaults import MACHINE_PHRASES, ROUTING_RULES, TEMPLATES
from responder.config.oauth import GoogleConfig, MicrosoftConfig
from responder.config.promises import PromisesConfig
from responder.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_CONFIG_PATH = Path("config/responder.toml")
SECRET_KEYS = ("password", "client_secret")


@dataclass(frozen=True)
class MailboxConfig:
    """Who we are: the support address customers write to, and our other addresses (loop guard)."""

    address: str = "support@example.test"
    aliases: tuple[str, ...] = ()
    organization: str = "Example Support"
    from_name: str = "Example Support"
    # The receiving servers whose Authentication-Results headers we believe (their authserv-id,
    # e.g. "mx.example.com"); a DMARC or SPF failure they report means no acknowledgment.
    trusted_authserv_ids: tuple[str, ...] = ()

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset(a.lower() for a in (self.address, *self.aliases))

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2] or "localhost"


@dataclass(frozen=True)
class ServerConfig:
    """An IMAP or SMTP endpoint. `security` is tls (implicit), starttls or plain (loopback only)."""

    host: str = "127.0.0.1"
    port: int = 0
    security: str = "starttls"
    username: str = ""
    password: str = ""
    verify_tls: bool = True
    ca_file: str = ""
    timeout: float = 30.0
    # Login: password | xoauth2 | oauthbearer; OAuth tokens come from token_source
    # (command | microsoft | google), see responder/service/auth/.
    auth: str = "password"
    token_source: str = "command"
    token_command: tuple[str, ...] = ()  # argv, run without a shell; env: one shlex-quoted string

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class FoldersConfig:
    """Where handled mail goes. Nothing is ever deleted: refused mail is filed too."""

    inbox: str = "INBOX"
    queue_prefix: str = "Queues"
    sent: str = ""  # empty: the mailbox with SPECIAL-USE \Sent, else "Sent"
    refused: str = "Auto-Replies"
    spam: str = "Junk"
    quarantine: str = "Quarantine"
    reference_keywords: bool = False  # tag each filed message with #REFERENCE (bench scenario 6)


@dataclass(frozen=True)
class ReplyConfig:
    """How the acknowledgment is written: languages, templates and the promised response time."""

    languages: tuple[str, ...] = ("en", "es", "nl", "de", "fr", "pt")
    default_language: str = "en"
    templates: str = str(TEMPLATES)  # the shipped ones (package data)
    default_response_time: str = "4h"
    response_time: Mapping[str, str] = field(
        default_factory=lambda: {"billing": "4h", "technical": "4h", "orders": "4h"}
    )
    timezone: str = "UTC"
    envelope_sender: str = (
        ""  # empty: the null sender <>, so a bounce of an ack never loops (RFC 3834)
    )
    lint_model: str = (
        "both"  # the linter's model: off, veto, catch, both (responder/lint/judged.py)
    )


@dataclass(frozen=True)
class RoutingConfig:
    """Where the routing rules live (a TOML file of their own, edited by admins)."""

    rules: str = str(ROUTING_RULES)  # the shipped ones (package data)
    # Learn from agents moving mail between queue folders (seen by the folder watcher every
    # promises.check_interval; see [learning] in the rules file for when the model decides).
    learn_from_moves: bool = True


@dataclass(frozen=True)
class GuardConfig:
    """The guard's phrase lists (bounce, vacation, complaint wording; delivery-system senders)."""

    phrases: str = str(MACHINE_PHRASES)  # the shipped list (package data)


@dataclass(frozen=True)
class LimitsConfig:
    """Caps that stop loops with robots that set no auto-reply headers."""

    per_sender: int = 3
    per_sender_window: float = 3600.0
    global_per_hour: int = 500
    thread_window: float = 7 * 24 * 3600.0
    follow_up_note: bool = False


@dataclass(frozen=True)
class ServiceConfig:
    """How the daemon runs."""

    state_dir: str = ""
    idle: bool = True
    poll_interval: float = 30.0
    idle_renew: float = 25 * 60.0
    batch_size: int = 200
    smtp_connections: int = 4
    max_attempts: int = 3
    log_level: str = "INFO"
    # An acknowledgment whose end of DATA got no answer may have arrived: resend it only after
    # this many seconds, and only if no answer or bounce settled it meanwhile (0: never).
    uncertain_resend_after: float = 6 * 3600.0
    retention_days: int = 90  # acknowledgment bodies older than this leave the ledger
    log_format: str = "text"  # text | json (one JSON object per line)


@dataclass(frozen=True)
class MetricsConfig:
    """Prometheus metrics and /healthz over HTTP; off unless `listen` names host:port."""

    listen: str = ""


@dataclass(frozen=True)
class Config:
    mailbox: MailboxConfig = field(default_factory=MailboxConfig)
    imap: ServerConfig = field(default_factory=lambda: ServerConfig(port=143))
    smtp: ServerConfig = field(default_factory=lambda: ServerConfig(port=587))
    folders: FoldersConfig = field(default_factory=FoldersConfig)
    reply: ReplyConfig = field(default_factory=ReplyConfig)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    guard: GuardConfig = field(default_factory=GuardConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    microsoft: MicrosoftConfig = field(default_factory=MicrosoftConfig)
    google: GoogleConfig = field(default_factory=GoogleConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    promises: PromisesConfig = field(default_factory=PromisesConfig)
    source: str = "built-in defaults"

    def state_dir(self) -> Path:
        """Where the ledger lives; resolved once, when the configuration is loaded."""
        return Path(self.service.state_dir or "var")


_PATH_KEYS = {("reply", "templates"), ("routing", "rules"), ("guard", "phrases")}


def load(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Load the configuration the way the service and every command do.

    Order: built-in defaults, then the TOML file (`path`, else $RESPONDER_CONFIG, else
    config/responder.toml when it exists), then RESPONDER_* environment variables.
    """
    if environ is None:
        load_dotenv(dotenv_path=Path.cwd() / ".env", override=False)
        environ = os.environ
    if path is None:
        path = environ.get("RESPONDER_CONFIG") or (
            DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None
        )
    data: dict[str, Any] = {}
    source = "built-in defaults"
    if path is not None:
        data, source = _read_toml(Path(path)), str(path)
    config = _build(data, Path(path).resolve().parent if path else None, environ)
    service = dataclasses.replace(config.service, state_dir=_state_dir(config.service, environ))
    return dataclasses.replace(config, service=service, source=source)


def _state_dir(service: ServiceConfig, environ: Mapping[str, str]) -> str:
    """RESPONDER_STATE_DIR, else service.state_dir, else systemd's $STATE_DIRECTORY, else ./var."""
    systemd_dir = environ.get("STATE_DIRECTORY", "").split(":")[0]
    return environ.get("RESPONDER_STATE_DIR") or service.state_dir or systemd_dir or "var"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError("RESPONDER_CONFIG", f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from None


def _build(data: dict[str, Any], base: Path | None, environ: Mapping[str, str]) -> Config:
    sections: dict[str, Any] = {}
    for section in dataclasses.fields(Config):
        if section.name == "source":
            continue
        default = getattr(Config(), section.name)
        raw = data.pop(section.name, {})
        if not isinstance(raw, dict):
            raise ConfigError(section.name, "must be a table ([section])")
        sections[section.name] = _build_section(section.name, default, raw, base, environ)
    if data:
        raise ConfigError(sorted(data)[0], "unknown section")
    config = Config(**sections)
    validate(config)
    return config


def _build_section(
    name: str, default: Any, raw: dict[str, Any], base: Path | None, environ: Mapping[str, str]
) -> Any:
    hints = typing.get_type_hints(type(default))
    values: dict[str, Any] = {}
    for fld in dataclasses.fields(default):
        key = f"{name}.{fld.name}"
        env_name = f"RESPONDER_{name}_{fld.name}".upper()
        if fld.name in raw:
            if fld.name in SECRET_KEYS:
                raise ConfigError(key, f"secrets are read only from the environment ({env_name})")
            value = _coerce(key, hints[fld.name], raw.pop(fld.name))
            if (name, fld.name) in _PATH_KEYS and base is not None:
                value = str((base / value).resolve())
            values[fld.name] = value
        if env_name in environ and fld.name == "token_command":
            values[fld.name] = _shell_words(env_name, environ[env_name])
        elif env_name in environ:
            values[fld.name] = _coerce(env_name, hints[fld.name], environ[env_name], from_env=True)
    if raw:
        raise ConfigError(f"{name}.{sorted(raw)[0]}", "unknown key")
    return dataclasses.replace(default, **values)


def _whole(value: Any) -> int:
    """3 and "3" are whole numbers; 3.9 and "3.9" are mistakes, never silently 3."""
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        return int(value)
    return int(value)


def _shell_words(key: str, value: str) -> tuple[str, ...]:
    """A command line in one variable, split like a shell would (no shell ever runs it)."""
    try:
        return tuple(shlex.split(value))
    except ValueError as exc:
        raise ConfigError(key, f"cannot split as a command line: {exc}") from None


def _coerce(key: str, hint: Any, value: Any, from_env: bool = False) -> Any:
    """Turn a TOML or environment value into the field's type, or say which key is wrong."""
    origin = typing.get_origin(hint)
    if hint is bool:
        if from_env and isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
        if isinstance(value, bool):
            return value
        raise ConfigError(key, f"expected true or false, got {value!r}")
    if hint in (int, float):
        wrong = ConfigError(
            key, f"expected {'a whole number' if hint is int else 'a number'}, got {value!r}"
        )
        if isinstance(value, bool) or not (from_env or isinstance(value, int | float)):
            raise wrong
        try:
            number = float(value) if hint is float else _whole(value)
        except (TypeError, ValueError):
            raise wrong from None
        if not math.isfinite(number):
            raise ConfigError(key, f"expected a finite number, got {value!r}")
        return number
    if hint is str:
        if isinstance(value, str):
            return value
        raise ConfigError(key, f"expected a string, got {value!r}")
    if origin is tuple:
        if from_env and isinstance(value, str):
            value = [item.strip() for item in value.split(",") if item.strip()]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        raise ConfigError(key, f"expected a list of strings, got {value!r}")
    if origin is Mapping and typing.get_args(hint)[1] is not str:  # [promises.calendars.x] tables
        if from_env:
            raise ConfigError(key, "tables cannot be set from the environment")
        if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
            return {name: dict(table) for name, table in value.items()}
        raise ConfigError(key, f"expected a table of tables, got {value!r}")
    if origin is Mapping:
        if from_env:
            raise ConfigError(key, "tables cannot be set from the environment")
        if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
            return dict(value)
        raise ConfigError(key, f"expected a table of strings, got {value!r}")
    raise ConfigError(key, f"unsupported setting type {hint}")  # pragma: no cover


from responder.config.validate import is_loopback, validate  # noqa: E402

__all__ = ["GoogleConfig", "MicrosoftConfig", "is_loopback", "validate"]
