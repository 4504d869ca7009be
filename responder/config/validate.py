"""Validation at load: every value is checked once, and a bad one is one line naming its key."""

from __future__ import annotations

import importlib.util
import ipaddress
import zoneinfo
from typing import TYPE_CHECKING

from lingua import IsoCode639_1

from responder.config.duration import parse_duration
from responder.config.promises import validate_promises
from responder.errors import ConfigError

SECURITY_MODES = ("tls", "starttls", "plain")
AUTH_MODES = ("password", "xoauth2", "oauthbearer")
TOKEN_SOURCES = {"command": None, "microsoft": "msal", "google": "google.auth"}
MICROSOFT_FLOWS = ("client_credentials", "device_code")
LOG_FORMATS = ("text", "json")

if TYPE_CHECKING:
    from responder.config import Config, ServerConfig

LOOPBACK_HOSTS = ("localhost",)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def validate(config: Config) -> None:
    """Checks that cross fields; each failure names the key."""
    for name in ("imap", "smtp"):
        server: ServerConfig = getattr(config, name)
        if server.security not in SECURITY_MODES:
            raise ConfigError(f"{name}.security", f"must be one of {', '.join(SECURITY_MODES)}")
        if not 0 < server.port < 65536:
            raise ConfigError(f"{name}.port", f"must be 1..65535, got {server.port}")
        if server.security == "plain" and not is_loopback(server.host):
            raise ConfigError(
                f"{name}.security",
                f"plain (unencrypted) is allowed only on loopback, not {server.host}",
            )
        if server.timeout <= 0:
            raise ConfigError(f"{name}.timeout", "must be positive")
        _validate_auth(config, name, server)
    if "@" not in config.mailbox.address:
        raise ConfigError("mailbox.address", f"not an email address: {config.mailbox.address!r}")
    reply = config.reply
    unknown = [code for code in reply.languages if not hasattr(IsoCode639_1, code.upper())]
    if unknown:
        raise ConfigError(
            "reply.languages", f"not ISO 639-1 codes lingua knows: {', '.join(unknown)}"
        )
    if reply.lint_model not in ("off", "veto", "catch", "both"):
        raise ConfigError(
            "reply.lint_model", f"{reply.lint_model!r} is not off, veto, catch or both"
        )
    if reply.default_language not in reply.languages:
        raise ConfigError(
            "reply.default_language", f"{reply.default_language!r} is not in reply.languages"
        )
    for queue, text in {"default": reply.default_response_time, **reply.response_time}.items():
        try:
            parse_duration(text)
        except ValueError as exc:
            raise ConfigError(f"reply.response_time.{queue}", str(exc)) from None
    validate_promises(config.promises, reply.timezone)
    service = config.service
    if service.poll_interval <= 0:
        raise ConfigError("service.poll_interval", "must be positive")
    if not 60 <= service.idle_renew <= 29 * 60:
        raise ConfigError("service.idle_renew", "must be between 60 and 1740 seconds (RFC 2177)")
    for key in ("batch_size", "smtp_connections", "max_attempts", "retention_days"):
        if getattr(service, key) < 1:
            raise ConfigError(f"service.{key}", "must be at least 1")
    if service.uncertain_resend_after < 0:
        raise ConfigError("service.uncertain_resend_after", "must be 0 (never) or more seconds")
    if service.log_level.upper() not in LOG_LEVELS:
        raise ConfigError(
            "service.log_level",
            f"must be one of {', '.join(LOG_LEVELS)}, got {service.log_level!r}",
        )
    _validate_limits(config)
    if service.log_format not in LOG_FORMATS:
        raise ConfigError("service.log_format", f"must be one of {', '.join(LOG_FORMATS)}")
    if config.metrics.listen:
        try:
            split_listen(config.metrics.listen)
        except ValueError as exc:
            raise ConfigError("metrics.listen", str(exc)) from None
    try:
        zoneinfo.ZoneInfo(reply.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            "reply.timezone", f"not an IANA time zone: {reply.timezone!r} (e.g. Europe/Madrid)"
        ) from None


def _validate_limits(config: Config) -> None:
    limits = config.limits
    for key in ("per_sender", "global_per_hour"):
        if getattr(limits, key) < 1:
            raise ConfigError(f"limits.{key}", "must be at least 1 (0 would refuse every mail)")
    for key in ("per_sender_window", "thread_window"):
        if getattr(limits, key) <= 0:
            raise ConfigError(f"limits.{key}", "must be positive")


def _validate_auth(config: Config, name: str, server: ServerConfig) -> None:
    """OAuth settings: the mechanism, where tokens come from, and that its library is installed."""
    if server.auth not in AUTH_MODES:
        raise ConfigError(f"{name}.auth", f"must be one of {', '.join(AUTH_MODES)}")
    if server.auth == "password":
        return
    if server.token_source not in TOKEN_SOURCES:
        raise ConfigError(f"{name}.token_source", f"must be one of {', '.join(TOKEN_SOURCES)}")
    if not server.username:
        raise ConfigError(f"{name}.username", f"required with {name}.auth = {server.auth}")
    if server.token_source == "command" and not server.token_command:
        raise ConfigError(
            f"{name}.token_command",
            f"required with {name}.auth = {server.auth} (or set {name}.token_source)",
        )
    module = TOKEN_SOURCES[server.token_source]
    if module and not _installed(module):
        raise ConfigError(
            f"{name}.token_source",
            f"{server.token_source} needs the {module} package, which is not installed: "
            f"pip install 'responder[{server.token_source}]'",
        )
    if server.token_source == "microsoft":
        ms = config.microsoft
        for key in ("tenant", "client_id"):
            if not getattr(ms, key):
                raise ConfigError(f"microsoft.{key}", f"required with {name}.token_source")
        if ms.flow not in MICROSOFT_FLOWS:
            raise ConfigError("microsoft.flow", f"must be one of {', '.join(MICROSOFT_FLOWS)}")
        if ms.flow == "client_credentials" and not (
            ms.client_secret or ms.client_secret_file or ms.certificate_file
        ):
            raise ConfigError(
                "microsoft.client_secret_file",
                "client_credentials needs a secret (file or RESPONDER_MICROSOFT_CLIENT_SECRET) "
                "or microsoft.certificate_file",
            )
        if ms.certificate_file and not ms.certificate_thumbprint:
            raise ConfigError("microsoft.certificate_thumbprint", "required with certificate_file")
    if server.token_source == "google" and not config.google.service_account_file:
        raise ConfigError("google.service_account_file", f"required with {name}.token_source")


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # the parent package is missing
        return False


def split_listen(listen: str) -> tuple[str, int]:
    """`127.0.0.1:9464` or `[::1]:9464` → (host, port); ValueError saying what is wrong."""
    host, colon, port = listen.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port (e.g. 127.0.0.1:9464), got {listen!r}")
    return host, int(port)


def is_loopback(host: str) -> bool:
    """An address, not a name that merely starts like one (`127.attacker.example`)."""
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
