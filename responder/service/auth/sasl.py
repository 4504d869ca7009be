"""Logging in with a token: IMAP AUTHENTICATE and SMTP AUTH, XOAUTH2 or OAUTHBEARER.

One rule for both protocols: fetch a token just before the login; if the server refuses it,
get a fresh one from the source and try once more; if a fresh token is refused too, the
grant or the permissions are wrong and only a human can fix them (needs re-authorization).
Neither the token nor the SASL string ever reaches a message or a log line.
"""

from __future__ import annotations

import base64
import smtplib
from collections.abc import Callable

from imapclient import IMAPClient
from imapclient import exceptions as imap_errors

from responder.config import ServerConfig
from responder.errors import PermanentError
from responder.service.auth.password import imap_password_login
from responder.service.auth.tokens import TokenProvider

MECHANISMS = {"xoauth2": "XOAUTH2", "oauthbearer": "OAUTHBEARER"}


def xoauth2(user: str, token: str) -> str:
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def oauthbearer(user: str, token: str) -> str:
    identity = user.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={identity},\x01auth=Bearer {token}\x01\x01"


def sasl_string(mechanism: str, user: str, token: str) -> str:
    return (xoauth2 if mechanism == "xoauth2" else oauthbearer)(user, token)


def imap_login(
    client: IMAPClient, server: ServerConfig, provider: TokenProvider | None, endpoint: str
) -> None:
    """LOGIN with the password, or AUTHENTICATE with the account's token (one fresh retry)."""
    if provider is None:
        imap_password_login(client, server.username, server.password, endpoint)
        return
    mechanism = MECHANISMS[provider.mechanism]
    offered = client.capabilities()
    if f"AUTH={mechanism}".encode() not in offered:
        auths = [c.decode()[5:] for c in offered if c.startswith(b"AUTH=")]
        raise PermanentError(
            f"IMAP {endpoint}: server does not offer AUTH={mechanism} "
            f"(offers: {', '.join(auths) or 'none'})"
        )

    def attempt(token: str) -> str | None:
        try:
            if provider.mechanism == "xoauth2":
                client.oauth2_login(provider.username, token)
            else:
                client.oauthbearer_login(provider.username, token)
        except imap_errors.LoginError as exc:
            return _clean(str(exc), token)
        return None

    _login_twice(provider, attempt, f"IMAP {endpoint}")


def smtp_login(session: smtplib.SMTP, provider: TokenProvider, endpoint: str) -> None:
    """AUTH with the account's token; one retry with a fresh token."""
    mechanism = MECHANISMS[provider.mechanism]
    offered = session.esmtp_features.get("auth", "").upper().split()
    if mechanism not in offered:
        raise PermanentError(
            f"SMTP {endpoint}: server does not offer AUTH {mechanism} "
            f"(offers: {', '.join(offered) or 'none'})"
        )

    def attempt(token: str) -> str | None:
        answer = sasl_string(provider.mechanism, provider.username, token)
        # After a refusal the server sends a 334 challenge holding a JSON error, and waits:
        # the answer is empty (XOAUTH2) or a lone ^A (OAUTHBEARER, RFC 7628 §3.2.3).
        after_error = "" if provider.mechanism == "xoauth2" else "\x01"

        def respond(challenge: bytes | None = None) -> str:
            return answer if challenge is None else after_error

        try:
            session.auth(mechanism, respond, initial_response_ok=True)
        except smtplib.SMTPAuthenticationError as exc:
            reply = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            return _clean(f"{exc.smtp_code} {reply}", token)
        return None

    _login_twice(provider, attempt, f"SMTP {endpoint}")


def _login_twice(provider: TokenProvider, attempt: Callable[[str], str | None], where: str) -> None:
    refusal = attempt(provider.token())
    if refusal is None:
        provider.succeeded()
        return
    refusal = attempt(provider.token(fresh=True))
    if refusal is None:
        provider.succeeded()
        return
    raise provider.refused(f"{where}: {refusal}")


def _clean(reply: str, token: str) -> str:
    """The server's words, minus anything that could carry the token back to us."""
    for secret in (token, base64.b64encode(token.encode()).decode()):
        reply = reply.replace(secret, "<token>")
    if reply.startswith(("b'", 'b"')):
        reply = reply[2:-1]
    return reply.strip()[:200]
