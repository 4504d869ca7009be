"""OAuth access tokens: one cached token per account, renewed before it runs out.

Why a cache of our own: providers throttle clients that ask for a token on every connection,
and a token that dies in the middle of an IDLE gets the session killed (`BYE … AccessTokenExpired`).
So a token is reused until `renew_margin()` before it expires, and the IMAP edge ends an IDLE
before that point. A permanent refusal (revoked grant, expired secret) puts the account in the
"needs re-authorization" state (see state.py): the identity provider is then asked again only
after a growing pause (or at once when the credentials on disk change), never in a storm.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from responder.errors import ReauthorizationNeeded, TransientError
from responder.service.auth import state

RENEW_BEFORE = 600.0  # seconds: renew a token with less than this left (or half its lifetime)
UNKNOWN_LIFETIME = 300.0  # a bare token with no expiry is reused this long, at most
REAUTH_PAUSE = 60.0  # first pause before asking the provider again after a permanent refusal
REAUTH_PAUSE_CAP = 3600.0
OUTAGE_PAUSE = 5.0  # after a failed fetch (provider down): wait this long, doubling, before asking
OUTAGE_PAUSE_CAP = 300.0


class TokenError(Exception):
    """A token source failed; `permanent` when only a human can fix it (see permanent.py)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float | None  # time.time() seconds; None when the source did not say
    issued_at: float

    def renew_at(self) -> float:
        """When to stop using this token for new connections."""
        if self.expires_at is None:
            return self.issued_at + UNKNOWN_LIFETIME
        lifetime = self.expires_at - self.issued_at
        return self.expires_at - min(RENEW_BEFORE, max(0.0, lifetime) / 2)


class TokenSource(Protocol):
    description: str  # e.g. "token_command ['get-token']" (never a secret)

    def fetch(self) -> Token: ...

    def fix(self) -> str:
        """One line telling a human how to re-authorize."""
        ...

    def changed(self) -> bool:
        """Have the credentials changed since the last fetch (a new login, a new secret)?"""
        ...


class TokenProvider:
    """The token for one account (IMAP or SMTP), shared by every connection of that account."""

    def __init__(
        self,
        account: str,
        username: str,
        mechanism: str,
        source: TokenSource,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account = account
        self.username = username
        self.mechanism = mechanism
        self.source = source
        self.clock = clock
        self.fetches = 0  # how often the source was asked (tests count identity-provider load)
        self._token: Token | None = None
        self._lock = threading.Lock()
        self._problem: str | None = None
        self._next_try = 0.0
        self._pause = REAUTH_PAUSE
        self._outage: str | None = None  # the last transient failure, while we wait it out
        self._outage_pause = OUTAGE_PAUSE
        self._outage_until = 0.0

    def token(self, fresh: bool = False) -> str:
        """A token valid for a new connection; `fresh` asks the source even if ours looks good."""
        with self._lock:
            now = self.clock()
            if self._problem is not None:
                if now < self._next_try and not self.source.changed():
                    raise ReauthorizationNeeded(self._problem)
                fresh = True
            if not fresh and self._token is not None and now < self._token.renew_at():
                return self._token.value
            if self._outage is not None and now < self._outage_until:
                raise TransientError(self._outage)  # the provider is having trouble: let it be
            return self._fetch(now).value

    def _fetch(self, now: float) -> Token:
        self.fetches += 1
        try:
            token = self.source.fetch()
        except TokenError as exc:
            if exc.permanent:
                raise self._enter_reauth(f"{exc}; {self.source.fix()}", now) from None
            if self._outage is not None:
                self._outage_pause = min(OUTAGE_PAUSE_CAP, self._outage_pause * 2)
            self._outage = f"{self.account.upper()} token: {exc}"
            self._outage_until = now + self._outage_pause
            raise TransientError(self._outage) from None
        self._token = token
        self._outage, self._outage_pause = None, OUTAGE_PAUSE
        return token

    def expires_at(self) -> float | None:
        """When the token of the current connection stops being accepted (None: unknown)."""
        with self._lock:
            return self._token.expires_at if self._token else None

    def refresh_due(self) -> float | None:
        """When a long-lived connection (IDLE) should be replaced, or None for never."""
        with self._lock:
            if self._token is None or self._token.expires_at is None:
                return None
            return self._token.renew_at()

    def refused(self, server_reply: str) -> ReauthorizationNeeded:
        """The server refused a token fresh from the source: a grant or permission problem."""
        with self._lock:
            self._token = None
            return self._enter_reauth(
                f"{self.account.upper()} server refused a fresh token for {self.username} "
                f"({server_reply}); {self.source.fix()}",
                self.clock(),
            )

    def succeeded(self) -> None:
        """A login worked: leave the re-authorization state, if we were in it."""
        with self._lock:
            was = self._problem
            self._problem = None
            self._pause = REAUTH_PAUSE
        if was is not None:
            state.clear(self.account)

    def forget(self) -> None:
        """Drop the cached token (the server said it expired)."""
        with self._lock:
            self._token = None

    def _enter_reauth(self, problem: str, now: float) -> ReauthorizationNeeded:
        if self._problem is not None:
            self._pause = min(REAUTH_PAUSE_CAP, self._pause * 2)
        self._problem = problem
        self._next_try = now + self._pause
        state.flag(self.account, problem)
        return ReauthorizationNeeded(problem)
