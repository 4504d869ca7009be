"""Which token provider serves which account, built once from the configuration.

The IMAP and SMTP edges only see their `ServerConfig`; `install(config)` (called when the
service or `check` starts) maps each OAuth account to its provider, so every connection of an
account shares one cached token. A `ServerConfig` with a token_command needs no install.
"""

from __future__ import annotations

import threading
import time

from responder.config import Config, ServerConfig
from responder.errors import PermanentError
from responder.service.auth import state
from responder.service.auth.command import CommandSource
from responder.service.auth.tokens import TokenProvider, TokenSource

_lock = threading.Lock()
_providers: dict[ServerConfig, TokenProvider] = {}


def install(config: Config) -> dict[str, TokenProvider]:
    """Build (or reuse) the providers of the configured OAuth accounts, by account name."""
    state.set_state_dir(config.state_dir())
    found: dict[str, TokenProvider] = {}
    for account in ("imap", "smtp"):
        server: ServerConfig = getattr(config, account)
        if server.auth == "password":
            continue
        with _lock:
            if server not in _providers:
                _providers[server] = TokenProvider(
                    account, server.username, server.auth, _source(config, account, server)
                )
            found[account] = _providers[server]
    return found


def provider_for(server: ServerConfig, account: str) -> TokenProvider | None:
    """The account's provider; None for password logins."""
    if server.auth == "password":
        return None
    with _lock:
        provider = _providers.get(server)
        if provider is None:
            if server.token_source != "command":
                raise PermanentError(
                    f"{account}.token_source = {server.token_source}: not set up (internal error)"
                )
            source = CommandSource(server.token_command, f"{account}.token_command")
            provider = _providers[server] = TokenProvider(
                account, server.username, server.auth, source
            )
        return provider


def ready_provider(server: ServerConfig, account: str) -> TokenProvider | None:
    """The account's provider with a token at hand (None for passwords).

    Raises before any connection is opened when no token can be had, so an account that
    needs re-authorization costs neither the identity provider nor the mail server anything.
    """
    provider = provider_for(server, account)
    if provider is not None:
        provider.token()
    return provider


def idle_window(timeout: float, renew_at: float | None) -> tuple[float, bool]:
    """How long to IDLE (or poll), and whether the connection must be replaced afterwards
    because its token is about to expire."""
    if renew_at is None:
        return timeout, False
    left = renew_at - time.time()
    return max(0.0, min(timeout, left)), left < timeout


def forget_token(server: ServerConfig, account: str) -> None:
    """The server said the token expired: the next connection gets a new one."""
    provider = provider_for(server, account)
    if provider is not None:
        provider.forget()


def forget_all() -> None:
    """Drop every provider and status (tests; a reloaded configuration)."""
    with _lock:
        _providers.clear()
    state.reset()


def _source(config: Config, account: str, server: ServerConfig) -> TokenSource:
    if server.token_source == "microsoft":
        from responder.service.auth.microsoft import MicrosoftSource

        return MicrosoftSource(config.microsoft, config.state_dir())
    if server.token_source == "google":
        from responder.service.auth.google import GoogleSource

        return GoogleSource(config.google, config.google.subject or server.username)
    return CommandSource(server.token_command, f"{account}.token_command")
